package io.cohortsync.export;

import org.apache.kafka.common.TopicPartition;

import java.util.TreeSet;

/**
 * Which offsets of one partition may be committed: everything before the first record that is neither accepted by
 * Amplitude nor dead-lettered, and never past a record of a stopped account (its offsets stay put).
 *
 * <p>Only the unfinished offsets are kept: a user throttled for an hour must not make this hold every record read
 * after its event, so what a partition costs is bounded by what it has waiting, not by how far it has read.
 */
final class PartitionProgress {

    final TopicPartition partition;
    private final TreeSet<Long> unfinished = new TreeSet<>();
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
        unfinished.add(event.offset);
        seen = true;
    }

    /** The record at {@code offset} was accepted, dead-lettered or parked: it no longer holds back the commit. */
    void finished(final long offset) {
        unfinished.remove(offset);
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
     * The offset to commit given the consumer's position (the next offset poll would return): the smallest
     * unfinished record's, or the position when none is unfinished; never past a parked record.
     */
    long commitOffset(final long position) {
        final long firstUnfinished = unfinished.isEmpty() ? position : unfinished.first();
        return Math.min(firstUnfinished, parkedFloor);
    }

    long committed() {
        return committed;
    }

    void committed(final long offset) {
        committed = Math.max(committed, offset);
    }
}
