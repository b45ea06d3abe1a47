package io.cohortsync.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KafkaTestClusterTest {

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    private static KafkaTestCluster kafka;

    @BeforeAll
    static void startKafka() {
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void committedTransactionsAreReadAcrossABrokerRestart() {
        final String topic = "segment-updates";
        kafka.createTopics(Map.of(topic, 1));
        final String addressBefore = kafka.bootstrapServers();
        try (KafkaProducer<String, String> producer = transactionalProducer();
             KafkaConsumer<String, String> consumer = readCommittedConsumer(topic)) {
            commit(producer, topic, "cohort-1", "before-restart");
            assertThat(poll(consumer, 1)).containsExactly("cohort-1=before-restart");

            kafka.restartBroker();

            assertThat(kafka.bootstrapServers()).isEqualTo(addressBefore);
            commit(producer, topic, "cohort-2", "after-restart");
            assertThat(poll(consumer, 1)).containsExactly("cohort-2=after-restart");
        }
    }

    @Test
    void createsTopicsWithPartitionsAndConfigs() throws Exception {
        kafka.createTopics(Map.of("cohort-state", 3), Map.of("cleanup.policy", "compact"));

        final TopicDescription description = kafka.admin().describeTopics(Set.of("cohort-state"))
                .allTopicNames().get(30, TimeUnit.SECONDS).get("cohort-state");
        assertThat(description.partitions()).hasSize(3);
        final ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "cohort-state");
        final Config config = kafka.admin().describeConfigs(Set.of(resource)).all().get(30, TimeUnit.SECONDS)
                .get(resource);
        assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
    }

    private static KafkaProducer<String, String> transactionalProducer() {
        final Map<String, Object> config = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "test-cluster-producer");
        final KafkaProducer<String, String> producer =
                new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
        producer.initTransactions();
        return producer;
    }

    private static KafkaConsumer<String, String> readCommittedConsumer(final String topic) {
        final Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        final KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
        final TopicPartition partition = new TopicPartition(topic, 0);
        consumer.assign(Set.of(partition));
        consumer.seekToBeginning(Set.of(partition));
        return consumer;
    }

    private static void commit(final KafkaProducer<String, String> producer, final String topic,
                               final String key, final String value) {
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, key, value));
        producer.commitTransaction();
    }

    private static List<String> poll(final KafkaConsumer<String, String> consumer, final int expected) {
        final List<String> seen = new ArrayList<>();
        final long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (seen.size() < expected && System.nanoTime() < deadline) {
            for (final ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                seen.add(record.key() + "=" + record.value());
            }
        }
        assertThat(seen).as("records read within %s", READ_TIMEOUT).hasSize(expected);
        return seen;
    }
}
