package io.cohortsync.runtime;

/** What a failure was caused by, however deeply the clients and frameworks wrapped it. */
public final class Causes {

    private Causes() {
    }

    public static boolean has(final Throwable error, final Class<? extends Throwable> type) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (type.isInstance(cause)) {
                return true;
            }
        }
        return false;
    }
}
