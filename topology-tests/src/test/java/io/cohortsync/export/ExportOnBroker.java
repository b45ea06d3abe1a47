package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.export.emulator.AmplitudeEmulator;
import io.cohortsync.topology.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Test helpers for the exporter on a real broker: events to produce, exporter settings, and what to check. Public for
 * the fault suites ({@code io.cohortsync.faults}).
 */
public final class ExportOnBroker {

    public static final long BASE_TIME = 1_700_000_000_000L;
    static final int MAX_RECORD_BYTES =
        Integer.parseInt(io.cohortsync.config.CohortSyncConfig.defaults().get("ingest.max-record-bytes"));

    private ExportOnBroker() {
    }

    /** {@code users} users with {@code perUser} events each, interleaved the way a real stream would be. */
    static List<AmplitudeEvent> events(final String accountId, final int users, final int perUser) {
        final List<AmplitudeEvent> events = new ArrayList<>(users * perUser);
        for (int seq = 0; seq < perUser; seq++) {
            for (int user = 0; user < users; user++) {
                events.add(event(accountId, String.format("user-%06d", user), seq));
            }
        }
        return events;
    }

    static AmplitudeEvent event(final String accountId, final String userId, final int seq) {
        return AmplitudeEvent.newBuilder()
            .setAccountId(accountId)
            .setEventType(seq % 2 == 0 ? "Notification Sent" : "Notification Clicked")
            .setUserId(userId)
            .setDeviceId("device-" + userId)
            .setTime(BASE_TIME + seq)
            .setInsertId(UUID.nameUUIDFromBytes((accountId + "|" + userId + "|" + seq).getBytes()).toString())
            .setEventProperties(Map.of("seq", String.valueOf(seq), "Campaign", "spring-sale-2026"))
            .setUserProperties(Map.of())
            .build();
    }

    /** Produces the events keyed by user; returns each event's partition and offset, in order. */
    static List<RecordMetadata> produce(final String bootstrap, final Topics topics, final List<AmplitudeEvent> events)
        throws ExecutionException, InterruptedException {
        final Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        final List<Future<RecordMetadata>> sent = new ArrayList<>(events.size());
        try (KafkaProducer<String, AmplitudeEvent> producer = new KafkaProducer<>(config, new StringSerializer(),
            topics.amplitudeExport.valueSerde().serializer())) {
            for (final AmplitudeEvent event : events) {
                sent.add(producer.send(new ProducerRecord<>(topics.amplitudeExport.name(), ExportMapper.key(event),
                    event)));
            }
            producer.flush();
        }
        final List<RecordMetadata> metadata = new ArrayList<>(sent.size());
        for (final Future<RecordMetadata> future : sent) {
            metadata.add(future.get());
        }
        return metadata;
    }

    static void produceEngagement(final String bootstrap, final Topics topics,
                                  final Map<String, io.cohortsync.avro.EngagementEvent> events) {
        final Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, io.cohortsync.avro.EngagementEvent> producer = new KafkaProducer<>(config,
            new StringSerializer(), topics.engagementEvents.valueSerde().serializer())) {
            events.forEach((key, event) -> producer.send(new ProducerRecord<>(topics.engagementEvents.name(), key,
                event)));
            producer.flush();
        }
    }

    static Map<String, Object> kafkaConfig(final String bootstrap) {
        final Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        // A crashed exporter's partitions go to its successor after one session: keep it short in tests.
        config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000);
        config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1000);
        return config;
    }

    /** Fast retries and waits, so faults cost milliseconds instead of Amplitude's seconds. */
    static ExporterSettings fastSettings(final String groupId, final java.nio.file.Path dryRunFile) {
        return new ExporterSettings(groupId, Duration.ofMillis(20), 4, 50_000, 0, Duration.ofMillis(500),
            Duration.ofMillis(20), Duration.ofMillis(300), Duration.ofMillis(300), Duration.ofSeconds(2),
            Duration.ofMillis(200), dryRunFile, Duration.ofSeconds(5), MAX_RECORD_BYTES);
    }

    static ExportSettings export(final String apiKey, final AmplitudeEmulator emulator, final Endpoint endpoint) {
        return new ExportSettings(Secret.of(apiKey), Residency.EU, emulator.baseUrl(), null, null, endpoint,
            EventSelection.ALL, null, 5);
    }

    /**
     * Waits until every partition of the topics has a leader: producing into a partition whose leader is not elected
     * yet can wedge an idempotent producer until its delivery timeout.
     */
    public static void awaitLeaders(final Admin admin, final List<String> topicNames) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
            .until(() -> admin.describeTopics(topicNames).allTopicNames().get(10, TimeUnit.SECONDS).values().stream()
                .allMatch(topic -> topic.partitions().stream().allMatch(p -> p.leader() != null
                    && !p.leader().isEmpty())));
    }

    /** The group's committed offset per partition. */
    public static Map<TopicPartition, Long> committed(final Admin admin, final String group) throws Exception {
        final Map<TopicPartition, Long> out = new LinkedHashMap<>();
        final Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
            .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        offsets.forEach((partition, offset) -> out.put(partition, offset == null ? 0 : offset.offset()));
        return out;
    }

    /** Every dead letter on the topic (read_committed), waiting up to {@code timeout} for at least {@code min}. */
    public static List<DeadLetter> deadLetters(final String bootstrap, final Topics topics, final int min,
                                        final Duration timeout) {
        final Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        final List<DeadLetter> letters = new ArrayList<>();
        try (KafkaConsumer<byte[], DeadLetter> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
            topics.deadLetters.valueSerde().deserializer())) {
            final List<TopicPartition> partitions = consumer.partitionsFor(topics.deadLetters.name()).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            final long deadline = System.nanoTime() + timeout.toNanos();
            while (letters.size() < min && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(record -> letters.add(record.value()));
            }
            consumer.poll(Duration.ofMillis(300)).forEach(record -> letters.add(record.value()));
        }
        return letters;
    }

    /** Each user's events were accepted in the order they were produced. */
    public static void assertPerUserOrder(final List<AmplitudeEmulator.Accepted> accepted) {
        final Map<String, Integer> lastSeq = new HashMap<>();
        for (final AmplitudeEmulator.Accepted event : accepted) {
            final int seq = Integer.parseInt(event.eventProperties().get("seq"));
            final Integer previous = lastSeq.put(event.userId(), seq);
            assertThat(previous == null || previous < seq)
                .as("user %s: event %s accepted after event %s", event.userId(), seq, previous).isTrue();
        }
    }
}
