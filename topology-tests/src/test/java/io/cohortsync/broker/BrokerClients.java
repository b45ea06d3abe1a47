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
        final Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        final List<ConsumerRecord<String, V>> records = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(config, new StringDeserializer(), deserializer)) {
            final List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map((PartitionInfo p) -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
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

    /** Reads whatever the topic holds until it has been quiet for {@code quiet}. */
    static <V> List<ConsumerRecord<String, V>> readAll(final String bootstrap, final String topic,
                                                      final Deserializer<V> deserializer, final Duration quiet) {
        final long[] lastSize = {-1};
        final long[] stableSince = {System.nanoTime()};
        return readUntil(bootstrap, topic, deserializer, records -> {
            if (records.size() != lastSize[0]) {
                lastSize[0] = records.size();
                stableSince[0] = System.nanoTime();
                return false;
            }
            return System.nanoTime() - stableSince[0] > quiet.toNanos();
        }, quiet.multipliedBy(20));
    }
}
