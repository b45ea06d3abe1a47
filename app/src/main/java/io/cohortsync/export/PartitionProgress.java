package io.cohortsync.export;

import org.apache.kafka.common.TopicPartition;

import java.util.ArrayDeque;

/**
 * Which offsets of one partition may be committed: everything before the first record that is neither accepted by
 * Amplitude nor dead-lettered, and never past a record of a stopped account (its offsets stay put).
 */
final class PartitionProgress {

    final TopicPartition partition;
    private final ArrayDeque<PendingEvent> open = new ArrayDeque<>();
    private long parkedFloor = Long.MAX_VALUE;
    private long committed = -1;
    private boolean seen;
    boolean revoked;
    /** Events of this partition that count against {@code export.max-buffered-events}. */
    int buffered;
    /** Whether the exporter paused this partition because it holds more than its share of the buffer. */
    boolean paused;

    PartitionProgress(final TopicPartition partition) {
        this.partition = partition;
    }

    void track(final PendingEvent event) {
        open.addLast(event);
        seen = true;
    }

    /** A record of a stopped account: no commit may pass it until the service restarts with a working key. */
    void park(final long offset) {
        parkedFloor = Math.min(parkedFloor, offset);
        seen = true;
    }

    /** Whether this partition returned records, so the consumer knows its position. */
    boolean seen() {
        return seen;
    }

    /**
     * The offset to commit given the consumer's position (the next offset poll would return): the first open
     * record's, or the position when none is open; never past a parked record.
     */
    long commitOffset(final long position) {
        while (!open.isEmpty() && open.peekFirst().done) {
            open.pollFirst();
        }
        final long firstOpen = open.isEmpty() ? position : open.peekFirst().offset;
        return Math.min(firstOpen, parkedFloor);
    }

    long committed() {
        return committed;
    }

    void committed(final long offset) {
        committed = Math.max(committed, offset);
    }
}
