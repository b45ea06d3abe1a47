package io.cohortsync.export;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The read-ahead budget, {@code export.max-buffered-events}: how many events wait, in total and per partition, and
 * which partitions are paused because they hold more than their share. Owned by the exporter's loop thread.
 */
final class Backpressure {

    private final int maxBufferedEvents;
    private final Consumer<byte[], byte[]> consumer;
    /** The assigned partitions (a live view): the share of each is the limit over their number. */
    private final Collection<PartitionProgress> partitions;
    private int buffered;
    /** Written by the loop only; volatile for the gauge. */
    private volatile int pausedPartitions;

    Backpressure(final int maxBufferedEvents, final Consumer<byte[], byte[]> consumer,
                 final Collection<PartitionProgress> partitions) {
        this.maxBufferedEvents = maxBufferedEvents;
        this.consumer = consumer;
        this.partitions = partitions;
    }

    /** An event now counts against {@code max-buffered-events} and its partition's share until it is finished. */
    void hold(final PendingEvent event) {
        buffered++;
        event.partition.buffered++;
    }

    void release(final PendingEvent event) {
        buffered--;
        event.partition.buffered--;
    }

    /**
     * Once {@code max-buffered-events} are waiting, pauses each partition that holds at least its share of them
     * (the limit over the assigned partitions) and lets the others read on; below the limit every partition reads.
     * So at most about twice the limit is ever buffered, and a partition stuck behind throttled users stops only
     * itself.
     */
    void apply() {
        final boolean full = buffered >= maxBufferedEvents;
        final int share = Math.max(1, maxBufferedEvents / Math.max(1, partitions.size()));
        final List<TopicPartition> pause = new ArrayList<>();
        final List<TopicPartition> resume = new ArrayList<>();
        for (final PartitionProgress progress : partitions) {
            final boolean hog = full && progress.buffered >= share;
            if (hog != progress.paused) {
                progress.paused = hog;
                (hog ? pause : resume).add(progress.partition);
            }
        }
        if (!pause.isEmpty()) {
            consumer.pause(pause);
        }
        if (!resume.isEmpty()) {
            consumer.resume(resume);
        }
        pausedPartitions += pause.size() - resume.size();
    }

    /** Whether no assigned partition is read: the loop then waits on answers instead of polling. */
    boolean allPaused() {
        return pausedPartitions > 0 && pausedPartitions == partitions.size();
    }

    /** The partition left the assignment: it no longer counts as paused. */
    void forget(final PartitionProgress progress) {
        pausedPartitions -= progress.paused ? 1 : 0;
    }

    int pausedPartitions() {
        return pausedPartitions;
    }
}
