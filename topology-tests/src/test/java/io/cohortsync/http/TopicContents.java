package io.cohortsync.http;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Reads a whole topic read_committed: up to its current end, or until a condition holds (the fault suites too). */
public final class TopicContents {

    private TopicContents() {
    }

    /** Everything committed so far (up to the end offsets at the time of the call). */
    public static <V> List<ConsumerRecord<String, V>> readToEnd(final String bootstrap, final String topic,
                                                        final Deserializer<V> values) {
        try (KafkaConsumer<String, V> consumer = consumer(bootstrap, values)) {
            final List<TopicPartition> partitions = assignAll(consumer, topic);
            final Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            final List<ConsumerRecord<String, V>> records = new ArrayList<>();
            final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read " + topic + " to its end");
                }
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
            return records;
        }
    }

    /** Reads from the beginning until {@code done} holds, or fails after {@code timeout}. */
    public static <V> List<ConsumerRecord<String, V>> readUntil(final String bootstrap, final String topic,
                                                        final Deserializer<V> values,
                                                        final Predicate<List<ConsumerRecord<String, V>>> done,
                                                        final Duration timeout) {
        try (KafkaConsumer<String, V> consumer = consumer(bootstrap, values)) {
            assignAll(consumer, topic);
            final List<ConsumerRecord<String, V>> records = new ArrayList<>();
            final long deadline = System.nanoTime() + timeout.toNanos();
            while (!done.test(records)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("timed out after " + timeout + " reading " + topic + "; got "
                        + records.size() + " records");
                }
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
            return records;
        }
    }

    private static <V> KafkaConsumer<String, V> consumer(final String bootstrap, final Deserializer<V> values) {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(), values);
    }

    private static List<TopicPartition> assignAll(final KafkaConsumer<?, ?> consumer, final String topic) {
        final List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
            .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return partitions;
    }
}
