package io.cohortsync.runtime;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/** What a failure was caused by, however deeply the clients and frameworks wrapped it. */
public final class Causes {

    private Causes() {
    }

    public static boolean has(final Throwable error, final Class<? extends Throwable> type) {
        return chain(error).stream().anyMatch(type::isInstance);
    }

    /**
     * {@code error} and its causes, outermost first, each once: a chain that loops back on itself (Throwable forbids
     * only a cause that is the throwable itself) ends where it would repeat.
     */
    public static List<Throwable> chain(final Throwable error) {
        final List<Throwable> chain = new ArrayList<>();
        final Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable cause = error; cause != null && seen.add(cause); cause = cause.getCause()) {
            chain.add(cause);
        }
        return chain;
    }
}
