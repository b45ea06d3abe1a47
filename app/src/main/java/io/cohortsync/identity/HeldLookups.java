package io.cohortsync.identity;

import io.cohortsync.internal.LookupChunk;
import io.cohortsync.internal.ParkedLookups;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * One partition's lookup chunks held, in arrival order, while the profile table has not yet read the profiles that
 * were on {@code cohort-sync.profiles} when the service started. Kept in a changelogged store, so a held chunk
 * survives a crash or a move of its task under exactly_once_v2 like any other state.
 */
final class HeldLookups {

    private final KeyValueStore<Long, ParkedLookups> store;
    private long nextSequence;
    private long held;

    HeldLookups(final KeyValueStore<Long, ParkedLookups> store) {
        this.store = store;
        // Sequences are non-negative longs, serialised big-endian: the store's byte order is their arrival order.
        try (KeyValueIterator<Long, ParkedLookups> all = store.all()) {
            while (all.hasNext()) {
                nextSequence = all.next().key + 1;
                held++;
            }
        }
    }

    boolean isEmpty() {
        return held == 0;
    }

    void hold(final LookupChunk chunk, final long timestamp) {
        store.put(nextSequence++, new ParkedLookups(timestamp, chunk));
        held++;
    }

    /**
     * Hands the oldest held chunks to {@code release}, in order, and forgets them, until about {@code maxMembers}
     * members went (at least one chunk): a slice per call keeps each transaction of the stream thread short.
     */
    void release(final int maxMembers, final BiConsumer<LookupChunk, Long> release) {
        final List<KeyValue<Long, ParkedLookups>> slice = new ArrayList<>();
        int members = 0;
        try (KeyValueIterator<Long, ParkedLookups> oldest = store.all()) {
            while (oldest.hasNext() && (slice.isEmpty() || members < maxMembers)) {
                final KeyValue<Long, ParkedLookups> next = oldest.next();
                slice.add(next);
                members += next.value.getChunk().getLookups().size();
            }
        }
        for (final KeyValue<Long, ParkedLookups> chunk : slice) {
            release.accept(chunk.value.getChunk(), chunk.value.getTimestamp());
            store.delete(chunk.key);
            held--;
        }
    }
}
