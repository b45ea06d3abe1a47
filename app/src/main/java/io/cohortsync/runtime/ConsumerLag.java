package io.cohortsync.runtime;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** How far a consumer group (such as cohort-sync's Streams application) is behind on some topics. */
public final class ConsumerLag {

    private ConsumerLag() {
    }

    /** Records the group has not yet committed past, over every partition of the topics. */
    public static long of(final Admin admin, final String groupId, final Collection<String> topics)
        throws ExecutionException, InterruptedException, TimeoutException {
        return lag(committed(admin, groupId), ends(admin, topics));
    }

    /** Records before the committed offsets reach {@code ends} (a partition without an offset counts from 0). */
    static long lag(final Map<TopicPartition, Long> committed, final Map<TopicPartition, Long> ends) {
        long lag = 0;
        for (final Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            lag += Math.max(0, end.getValue() - committed.getOrDefault(end.getKey(), 0L));
        }
        return lag;
    }

    /** The topics' last stable offsets, per partition: what a read_committed consumer reaches. */
    static Map<TopicPartition, Long> ends(final Admin admin, final Collection<String> topics)
        throws ExecutionException, InterruptedException, TimeoutException {
        return ends(admin, topics, IsolationLevel.READ_COMMITTED);
    }

    /**
     * The topics' ends per partition: last stable offsets for READ_COMMITTED, high watermarks (open transactions
     * included) for READ_UNCOMMITTED.
     */
    static Map<TopicPartition, Long> ends(final Admin admin, final Collection<String> topics,
                                          final IsolationLevel isolation)
        throws ExecutionException, InterruptedException, TimeoutException {
        final Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        final Map<String, TopicDescription> described = admin.describeTopics(topics).allTopicNames()
            .get(10, TimeUnit.SECONDS);
        described.values().forEach(topic -> topic.partitions().forEach(p ->
            latest.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.latest())));
        final Map<TopicPartition, Long> ends = new HashMap<>();
        admin.listOffsets(latest, new ListOffsetsOptions(isolation)).all()
            .get(10, TimeUnit.SECONDS).forEach((partition, info) -> ends.put(partition, info.offset()));
        return ends;
    }

    /** The group's committed offsets, per partition that has one. */
    static Map<TopicPartition, Long> committed(final Admin admin, final String groupId)
        throws ExecutionException, InterruptedException, TimeoutException {
        final Map<TopicPartition, Long> committed = new HashMap<>();
        admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS)
            .forEach((partition, offset) -> {
                if (offset != null) {
                    committed.put(partition, offset.offset());
                }
            });
        return committed;
    }

    /** Waits until the group has caught up on the topics; false on timeout. */
    public static boolean awaitCaughtUp(final Admin admin, final String groupId, final Collection<String> topics,
                                        final Duration timeout) throws InterruptedException {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (of(admin, groupId, topics) == 0) {
                    return true;
                }
            } catch (final ExecutionException | TimeoutException e) {
                // A topic may not exist yet right after start-up; try again until the deadline.
            }
            Thread.sleep(200);
        }
        return false;
    }
}
