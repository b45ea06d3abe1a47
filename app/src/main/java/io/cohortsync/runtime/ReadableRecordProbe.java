package io.cohortsync.runtime;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether a read_committed consumer finds a record in a range of offsets. Kafka Streams commits an offset only for a
 * partition it read a record from, so where the rest of a partition holds nothing but aborted records and
 * transaction markers (a transactional producer that failed mid-write), the group's committed offset stays short of
 * the partition's end for good, though there is nothing left to read.
 */
final class ReadableRecordProbe implements AutoCloseable {

    private static final Duration POLL = Duration.ofMillis(100);
    private static final int FETCH_BYTES = 64 * 1024;

    private final KafkaConsumer<byte[], byte[]> consumer;
    /** Per partition, the last range probed and its answer: the same range is not read twice. */
    private final Map<TopicPartition, Answer> answers = new HashMap<>();

    private record Answer(long from, long end, boolean readable) {
    }

    ReadableRecordProbe(final Map<String, Object> clientConfig, final String clientId) {
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
    }

    /**
     * Whether {@code partition} holds a record a read_committed consumer returns at or after {@code from} and before
     * {@code end}. Answers true when it cannot tell within {@code timeout}: the caller then keeps waiting.
     */
    boolean anyBetween(final TopicPartition partition, final long from, final long end, final Duration timeout) {
        final Answer known = answers.get(partition);
        if (known != null && known.from == from && known.end == end) {
            return known.readable;
        }
        consumer.assign(List.of(partition));
        consumer.seek(partition, from);
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            final List<ConsumerRecord<byte[], byte[]>> records = consumer.poll(POLL).records(partition);
            if (!records.isEmpty()) {
                return remember(partition, new Answer(from, end, records.get(0).offset() < end));
            }
            // Aborted records and markers are skipped without being returned: the position moves past them.
            if (consumer.position(partition) >= end) {
                return remember(partition, new Answer(from, end, false));
            }
        }
        return true;
    }

    private boolean remember(final TopicPartition partition, final Answer answer) {
        answers.put(partition, answer);
        return answer.readable;
    }

    @Override
    public void close() {
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
}
