package io.cohortsync.broker;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Plain Kafka clients for tests: an idempotent producer and a read_committed reader of a whole topic. */
final class BrokerClients {

    private BrokerClients() {
    }

    static <V> void produce(final String bootstrap, final String topic, final Serializer<V> serializer,
                            final Map<String, V> records) {
        final Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        try (KafkaProducer<String, V> producer = new KafkaProducer<>(config, new StringSerializer(), serializer)) {
            records.forEach((key, value) -> producer.send(new ProducerRecord<>(topic, key, value)));
            producer.flush();
        }
    }

    static void produceRaw(final String bootstrap, final String topic, final byte[] key, final byte[] value) {
        final Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config,
            new org.apache.kafka.common.serialization.ByteArraySerializer(),
            new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value));
            producer.flush();
        }
    }

    /** Reads the topic from the beginning (read_committed) until {@code done} holds, or fails after the timeout. */
    static <V> List<ConsumerRecord<String, V>> readUntil(final String bootstrap, final String topic,
                                                        final Deserializer<V> deserializer,
                                                        final Predicate<List<ConsumerRecord<String, V>>> done,
                                                        final Duration timeout) {
        final List<ConsumerRecord<String, V>> records = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = consumer(bootstrap, deserializer)) {
            atBeginning(consumer, topic);
            final long deadline = System.nanoTime() + timeout.toNanos();
            while (!done.test(records)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("timed out after " + timeout + " reading " + topic + "; got "
                        + records.size() + " records: " + records.stream().map(ConsumerRecord::key).toList());
                }
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    /**
     * Reads everything the topic holds (read_committed, up to its end offsets as of the call, however slow the first
     * fetch is), then keeps reading until nothing more has arrived for {@code quiet}.
     */
    static <V> List<ConsumerRecord<String, V>> readAll(final String bootstrap, final String topic,
                                                      final Deserializer<V> deserializer, final Duration quiet) {
        final List<ConsumerRecord<String, V>> records = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = consumer(bootstrap, deserializer)) {
            final List<TopicPartition> partitions = atBeginning(consumer, topic);
            if (partitions.isEmpty()) {
                return records;
            }
            final Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            final long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            while (ends.entrySet().stream().anyMatch(end -> consumer.position(end.getKey()) < end.getValue())) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("timed out reading " + topic + " to its end offsets " + ends);
                }
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            long quietSince = System.nanoTime();
            while (System.nanoTime() - quietSince < quiet.toNanos()) {
                final int before = records.size();
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                if (records.size() != before) {
                    quietSince = System.nanoTime();
                }
            }
        }
        return records;
    }

    private static <V> KafkaConsumer<String, V> consumer(final String bootstrap, final Deserializer<V> deserializer) {
        final Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(config, new StringDeserializer(), deserializer);
    }

    /** Assigns every partition of the topic at its beginning; returns them (none for a topic that does not exist). */
    private static List<TopicPartition> atBeginning(final KafkaConsumer<String, ?> consumer, final String topic) {
        final List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
            .map((PartitionInfo p) -> new TopicPartition(topic, p.partition())).toList();
        if (!partitions.isEmpty()) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }
        return partitions;
    }
}
