package io.cohortsync.export;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The progress of each assigned export partition, and the commits made from it: an offset is committed only when
 * every record before it was accepted or dead-lettered, and never past a record of a stopped account
 * ({@link PartitionProgress}). Owned by the exporter's loop thread; the consumer calls back on it too (rebalances,
 * async commits), from inside its poll. {@link #halt()} alone may be called from any thread.
 */
final class PartitionOffsets {

    /** The exporter's logger: operators (and tests) follow the exporter's warnings by that name. */
    private static final Logger LOG = LoggerFactory.getLogger(AmplitudeExporter.class);

    private final Consumer<byte[], byte[]> consumer;
    private final long commitIntervalNanos;
    private final Map<TopicPartition, PartitionProgress> partitions = new HashMap<>();
    private long lastCommit = System.nanoTime();
    /** Held while a commit is checked and made, and while {@link #halt()} sets {@code halted}. */
    private final Object commitLock = new Object();
    /** Set by {@link #halt()}; the exporter's loop reads it without the lock. */
    private volatile boolean halted;

    PartitionOffsets(final Consumer<byte[], byte[]> consumer, final Duration commitInterval) {
        this.consumer = consumer;
        this.commitIntervalNanos = commitInterval.toNanos();
    }

    /** The progress of an assigned partition, or null when it is not (or no longer) assigned. */
    PartitionProgress progressOf(final TopicPartition partition) {
        return partitions.get(partition);
    }

    /** The assigned partitions' progress: a live, read-only view. */
    Collection<PartitionProgress> assigned() {
        return Collections.unmodifiableCollection(partitions.values());
    }

    void assign(final Collection<TopicPartition> assigned) {
        assigned.forEach(partition -> partitions.put(partition, new PartitionProgress(partition)));
    }

    /** The progress of those of {@code leaving} that are assigned. */
    List<PartitionProgress> assignedAmong(final Collection<TopicPartition> leaving) {
        return leaving.stream().map(partitions::get).filter(Objects::nonNull).toList();
    }

    /**
     * The exporter's crash simulation: no commit is made once this returns. A commit already being made finishes
     * first, so each commit is wholly before the halt or not made at all.
     */
    void halt() {
        synchronized (commitLock) {
            halted = true;
        }
    }

    /** Whether {@link #halt()} was called: the exporter's crash simulation is under way. */
    boolean halted() {
        return halted;
    }

    /** The partition is no longer ours: its events still buffered are abandoned, answers to them ignored. */
    void forget(final PartitionProgress progress) {
        progress.revoked = true;
        partitions.remove(progress.partition);
    }

    /** Commits, without waiting, what every assigned partition finished, once per {@code export.commit-interval}. */
    void commitIfDue(final long now) {
        if (now - lastCommit >= commitIntervalNanos) {
            commit(false, partitions.values());
            lastCommit = now;
        }
    }

    /** Commits what {@code which} finished, and waits for it. */
    void commitSync(final Collection<PartitionProgress> which) {
        commit(true, which);
    }

    /** Commits what every assigned partition finished, and waits for it. */
    void commitAllSync() {
        commit(true, List.copyOf(partitions.values()));
    }

    private void commit(final boolean sync, final Collection<PartitionProgress> which) {
        final Map<TopicPartition, OffsetAndMetadata> offsets = committable(which);
        if (offsets.isEmpty()) {
            return;
        }
        // Checked here rather than by the loop alone: a halt can land after any check of the loop's.
        synchronized (commitLock) {
            if (halted) {
                return;
            }
            if (sync) {
                consumer.commitSync(offsets);
                markCommitted(offsets);
            } else {
                consumer.commitAsync(offsets, (committed, error) -> {
                    if (error == null) {
                        markCommitted(committed);
                    } else {
                        LOG.warn("Committing export offsets failed ({}); the next commit covers them",
                            error.toString());
                    }
                });
            }
        }
    }

    /** The offsets of {@code which} that moved past their last commit. */
    private Map<TopicPartition, OffsetAndMetadata> committable(final Collection<PartitionProgress> which) {
        final Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (final PartitionProgress progress : which) {
            if (!progress.seen() || progress.revoked) {
                continue;
            }
            final long offset = progress.commitOffset(consumer.position(progress.partition));
            if (offset > progress.committed()) {
                offsets.put(progress.partition, new OffsetAndMetadata(offset));
            }
        }
        return offsets;
    }

    private void markCommitted(final Map<TopicPartition, OffsetAndMetadata> offsets) {
        offsets.forEach((partition, offset) -> {
            final PartitionProgress progress = partitions.get(partition);
            if (progress != null) {
                progress.committed(offset.offset());
            }
        });
    }
}
