package io.cohortsync.topology;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Deletes a store's expired entries a slice at a time: each call looks at the next {@value #SLICE} entries, from
 * where the last one stopped, and wraps around at the end. One pass over a whole large store at once holds the stream
 * thread for seconds per million entries, long enough to pass the transaction timeout.
 */
public final class SlicedSweep<V> {

    /** How often a processor sweeps a slice; with {@link #SLICE}, 1.2 million entries an hour. */
    public static final Duration INTERVAL = Duration.ofMinutes(1);
    public static final int SLICE = 20_000;

    private final KeyValueStore<String, V> store;
    /** Where the next slice starts; null: at the beginning of the store. */
    private String from;

    public SlicedSweep(final KeyValueStore<String, V> store) {
        this.store = store;
    }

    /** Deletes the entries of the next slice that {@code expired} accepts. */
    public void sweep(final Predicate<V> expired) {
        final List<String> doomed = new ArrayList<>();
        String next = null;
        try (KeyValueIterator<String, V> slice = store.range(from, null)) {
            int scanned = 0;
            while (slice.hasNext()) {
                final KeyValue<String, V> entry = slice.next();
                if (scanned++ == SLICE) {
                    next = entry.key;
                    break;
                }
                if (expired.test(entry.value)) {
                    doomed.add(entry.key);
                }
            }
        }
        doomed.forEach(store::delete);
        from = next;
    }
}
