package io.cohortsync.runtime;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether a read_committed consumer finds a record in a range of offsets. Kafka Streams commits an offset only for a
 * partition it processed a record from since its last commit, so where the rest of a partition holds nothing but
 * aborted records and transaction markers (a transactional producer that failed mid-write), the group's committed
 * offset stays short of the partition's end for good, though there is nothing left to read.
 */
final class ReadableRecordProbe implements ProfileTableCatchUp.RestProbe {

    private static final Duration DEFAULT_POLL = Duration.ofMillis(100);
    /** The client fetches aborted records and drops them: large fetches cross a large aborted rest in fewer trips. */
    private static final int FETCH_BYTES = 1024 * 1024;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Duration poll;
    /** Per partition, the last range probed: how far the probe got in it, and its answer once it has one. */
    private final Map<TopicPartition, RangeProbe> probes = new HashMap<>();

    private static final class RangeProbe {
        private final long from;
        private final long end;
        private long position;
        private Boolean readable;

        private RangeProbe(final long from, final long end) {
            this.from = from;
            this.end = end;
            this.position = from;
        }
    }

    ReadableRecordProbe(final Map<String, Object> clientConfig, final String clientId) {
        this(clientConfig, clientId, DEFAULT_POLL);
    }

    ReadableRecordProbe(final Map<String, Object> clientConfig, final String clientId, final Duration poll) {
        final Map<String, Object> config = new HashMap<>(clientConfig);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // An offset below the log start (a purged repartition topic, no offset committed yet) reads from the start.
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, FETCH_BYTES);
        config.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, FETCH_BYTES);
        this.consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.poll = poll;
    }

    /**
     * Whether {@code partition} holds a record a read_committed consumer returns at or after {@code from} and before
     * {@code end}. Answers true when it cannot tell before {@code deadlineNanos} ({@link System#nanoTime()}; an open
     * transaction, or more aborted records than one call gets through): the caller then keeps waiting, and the next
     * call for the same range goes on from where this one stopped.
     */
    @Override
    public boolean anyBetween(final TopicPartition partition, final long from, final long end,
                              final long deadlineNanos) {
        final RangeProbe probe = probeOf(partition, from, end);
        if (probe.readable != null) {
            return probe.readable;
        }
        consumer.assign(List.of(partition));
        consumer.seek(partition, probe.position);
        try {
            for (long left = deadlineNanos - System.nanoTime(); left > 0; left = deadlineNanos - System.nanoTime()) {
                final Duration wait = Duration.ofNanos(Math.min(poll.toNanos(), left));
                final List<ConsumerRecord<byte[], byte[]>> records = consumer.poll(wait).records(partition);
                if (!records.isEmpty()) {
                    probe.readable = records.get(0).offset() < end;
                    return probe.readable;
                }
                // Aborted records and markers are skipped without being returned: the position moves past them.
                probe.position = consumer.position(partition, wait);
                if (probe.position >= end) {
                    probe.readable = false;
                    return false;
                }
            }
        } catch (final TimeoutException e) {
            // The position was not known in time (an offset reset still under way): asked again at the next check.
        }
        return true;
    }

    private RangeProbe probeOf(final TopicPartition partition, final long from, final long end) {
        final RangeProbe known = probes.get(partition);
        if (known != null && known.from == from && known.end == end) {
            return known;
        }
        final RangeProbe probe = new RangeProbe(from, end);
        probes.put(partition, probe);
        return probe;
    }

    @Override
    public void close() {
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
}
