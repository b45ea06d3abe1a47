package io.cohortsync.faults;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.SyncType;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.runtime.StartupException;
import io.cohortsync.serde.ConfluentAvroSerde;
import io.cohortsync.serde.testing.ApicurioRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import io.cohortsync.testing.TestDirs;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Suite 5, schema registry outage: the whole service against a real Apicurio registry that is stopped (same port,
 * persistent storage) and started again. While it is down, requests written with schemas already cached keep
 * becoming Partner Sync events (the webhook keeps accepting batches, and the first dead letter is written), because
 * the service registers every schema it writes at start. A request written by another producer with an evolved schema
 * (registered before the outage, never seen by the service) needs the registry: it is neither dead-lettered nor lost;
 * the stream thread fails with one clear warning naming the registry (not its credentials), is replaced after a
 * backoff, and the request becomes exactly one Partner Sync event once the registry is back.
 *
 * <p>CI: about 10 s of steady traffic and 10 s of waiting for the registry. Soak ({@code -Dcohort-sync.soak=true}):
 * 2 minutes each.
 */
@ExtendWith(SecretScan.class)
class RegistryOutageTest {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(RegistryOutageTest.class);
    private static final Duration STEADY = Soak.pick(Duration.ofSeconds(10), Duration.ofMinutes(2));
    private static final Duration WAITING = Soak.pick(Duration.ofSeconds(10), Duration.ofMinutes(2));
    private static final Duration TICK = Duration.ofMillis(500);
    private static final String ACCOUNT = "ct";
    /** The registry's basic-auth password, in the URL the service is given: it must never be logged. */
    private static final String REGISTRY_PASSWORD = FaultSecrets.REGISTRY_PASSWORD;
    private static final String RETRY_LOGGER = "io.cohortsync.runtime.StreamThreadFailures";

    private static KafkaTestCluster kafka;
    private static ApicurioRegistry registry;

    @BeforeAll
    static void startInfrastructure() {
        // A failed stream thread ends with its exception once the service has started its replacement: that is the
        // retry under test, not an error of the test (Awaitility would otherwise fail the await it interrupts).
        Awaitility.doNotCatchUncaughtExceptionsByDefault();
        kafka = KafkaTestCluster.start();
        registry = ApicurioRegistry.startNew();
    }

    @AfterAll
    static void stopInfrastructure() {
        Awaitility.reset();
        if (registry != null) {
            registry.close();
        }
        kafka.close();
    }

    @Test
    void cachedSchemasKeepFlowingAndARecordThatNeedsTheRegistryWaitsForItAndIsProcessedOnce() throws Exception {
        final String appId = "registry-outage-" + UUID.randomUUID().toString().substring(0, 8);
        final String prefix = appId + ".";
        final String requestsTopic = prefix + "requests";
        final Map<String, Object> clientSerdes = Map.of("schema.registry.url", registry.ccompatUrl());
        final ListAppender<ILoggingEvent> log = captureRoot();
        final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
        final List<String> expected = new ArrayList<>();
        try (CohortSyncService service = CohortSyncService.start(config(appId, prefix));
             KafkaProducer<String, CohortSyncRequest> producer = producer(
                 ConfluentAvroSerde.specific(CohortSyncRequest.class, clientSerdes, false).serializer());
             PartnerSyncReader events = new PartnerSyncReader(prefix + "partner-sync",
                 ConfluentAvroSerde.specific(PartnerSyncEvent.class, clientSerdes, false))) {
            assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();

            // Warm-up: the service, the test producer and the test reader have every schema of the steady state.
            send(producer, requestsTopic, request("c-warm", "m-warm", "warm-1"));
            expected.add("c-warm Added");
            events.awaitAll(expected, Duration.ofMinutes(1));
            // Another producer registers an evolved request schema before the outage; the service never sees it.
            final ConfluentAvroSerde<GenericRecord> evolvedSerde = ConfluentAvroSerde.generic(EVOLVED, null);
            evolvedSerde.configure(clientSerdes, false);
            final int evolvedId = evolvedSerde.registerSchema(requestsTopic);

            registry.stop();
            final Instant outageStart = Instant.now();
            assertThat(registry.isRunning()).isFalse();

            // Steady state: requests with cached schemas keep becoming Partner Sync events; the webhook keeps
            // accepting batches; a record that cannot be decoded becomes the service's first dead letter.
            final AtomicInteger tick = new AtomicInteger();
            final int ticks = (int) (STEADY.toMillis() / TICK.toMillis());
            for (int i = 0; i < ticks; i++) {
                expected.add("c-steady-" + i + " Added");
            }
            ticker.scheduleAtFixedRate(() -> {
                final int i = tick.getAndIncrement();
                if (i < ticks) {
                    send(producer, requestsTopic, request("c-steady-" + i, "m-steady-" + i, "steady-" + i));
                }
            }, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(webhook(service, "c-webhook", "m-webhook", "webhook-1")).isEqualTo(200);
            expected.add("c-webhook Added");
            sendRaw(requestsTopic, "ct|c-garbage", "not avro at all".getBytes(StandardCharsets.UTF_8));
            events.awaitAll(expected, STEADY.plusSeconds(60));
            assertThat(registry.isRunning()).as("all of that happened during the outage").isFalse();
            final Duration steady = Duration.between(outageStart, Instant.now());

            // A request with a schema id the service has not seen: it needs the registry, which is down.
            send(evolvedProducer(evolvedSerde), requestsTopic, "ct|c-evolved",
                evolved(request("c-evolved", "m-evolved", "evolved-1")));
            final Instant needyAt = Instant.now();
            await().atMost(Duration.ofMinutes(1)).until(() -> retryWarnings(log).size() >= 1);
            // It waits, retried, while the registry stays down: no event, no dead letter, the service up.
            await().during(WAITING).atMost(WAITING.plusSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> events.poll().stream().noneMatch(e -> e.startsWith("c-evolved"))
                    && service.streams().state() != KafkaStreams.State.ERROR
                    && service.streams().state() != KafkaStreams.State.NOT_RUNNING);
            final int warningsWhileDown = retryWarnings(log).size();

            registry.start();
            final Instant recovery = Instant.now();
            final Duration outage = Duration.between(outageStart, recovery);
            expected.add("c-evolved Added");
            events.awaitAll(expected, Duration.ofMinutes(3));
            final Duration recovered = Duration.between(recovery, Instant.now());
            await().atMost(Duration.ofMinutes(1))
                .until(() -> service.streams().state() == KafkaStreams.State.RUNNING);

            // Exactly once: every expected event, none twice, nothing more.
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(20))
                .until(() -> events.poll().size() == expected.size());
            assertThat(events.poll()).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(events.eventIds()).doesNotHaveDuplicates().hasSize(expected.size());
            // One dead letter, the garbage record; the evolved request is not among them.
            final List<DeadLetter> deadLetters = deadLetters(prefix + "dlq",
                ConfluentAvroSerde.specific(DeadLetter.class, clientSerdes, false));
            assertThat(deadLetters).singleElement().satisfies(letter -> {
                assertThat(letter.getReasonCode()).isNotEqualTo("UNKNOWN_SCHEMA_ID");
                assertThat(new String(letter.getKey().array(), StandardCharsets.UTF_8)).isEqualTo("ct|c-garbage");
            });
            // The failed stream thread was replaced, not lost.
            assertThat(service.streams().metadataForLocalThreads()).hasSize(1);
            assertClearRetriedError(log, warningsWhileDown, evolvedId);
            LOG.info("Registry outage of {} s: {} steady requests and a webhook batch became Partner Sync events "
                    + "during its first {} s; the evolved-schema request waited {} s with {} retry warnings and was "
                    + "processed {} ms after the registry returned; {} events in all, {} dead letter (the garbage), "
                    + "0 lost, 0 duplicated", outage.toSeconds(), ticks, steady.toSeconds(),
                Duration.between(needyAt, recovery).toSeconds(), retryWarnings(log).size(), recovered.toMillis(),
                expected.size(), deadLetters.size());
        } finally {
            ticker.shutdownNow();
            ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(log);
            if (!registry.isRunning()) {
                registry.start();
            }
        }
    }

    /**
     * Apicurio's root instead of its Confluent API (/apis/ccompat/v7) answers 404 without a registry error code. Read
     * as "unknown schema id", every input record would be dead-lettered; it is a wrong setting, so the start fails.
     */
    @Test
    void aRegistryUrlThatIsNotTheConfluentApiFailsTheStartWithAClearError() throws Exception {
        final String appId = "registry-wrong-url-" + UUID.randomUUID().toString().substring(0, 8);
        final CohortSyncConfig config = config(appId, appId + ".", registry.baseUrl());

        assertThatThrownBy(() -> CohortSyncService.start(config).close())
            .isInstanceOf(StartupException.class)
            .hasMessageContaining(registry.baseUrl())
            .hasMessageContaining("HTTP 404")
            .hasMessageContaining("/apis/ccompat/v7")
            .satisfies(e -> assertThat(e.getMessage()).doesNotContain(REGISTRY_PASSWORD));
    }

    /**
     * Each failure is one warning, without a stack trace, that names the registry URL (without its credentials), the
     * record, and says that it is retried; the backoff bounds how many there are.
     */
    private static void assertClearRetriedError(final ListAppender<ILoggingEvent> log, final int warningsWhileDown,
                                                final int evolvedId) {
        final List<ILoggingEvent> warnings = retryWarnings(log);
        assertThat(warningsWhileDown).isGreaterThanOrEqualTo(1);
        assertThat(warnings).allSatisfy(warning -> {
            assertThat(warning.getLevel()).isEqualTo(Level.WARN);
            assertThat(warning.getThrowableProxy()).isNull();
            assertThat(warning.getFormattedMessage())
                .contains("Schema registry " + registry.ccompatUrl() + " is unavailable")
                .contains("/schemas/ids/" + evolvedId)
                .contains("topic=" + "registry-outage-").contains("not dead-lettered", "retries it in");
        });
        // Backoff (1 s, doubling) plus a rebalance per retry: a handful of warnings, not one per record or per poll.
        assertThat(warnings.size()).isLessThanOrEqualTo((int) WAITING.toSeconds() + 10);
        assertThat(List.copyOf(log.list)).noneSatisfy(event -> assertThat(render(event))
            .contains(REGISTRY_PASSWORD));
    }

    private static List<ILoggingEvent> retryWarnings(final ListAppender<ILoggingEvent> log) {
        return List.copyOf(log.list).stream().filter(e -> RETRY_LOGGER.equals(e.getLoggerName())).toList();
    }

    private static String render(final ILoggingEvent event) {
        return event.getFormattedMessage() + (event.getThrowableProxy() == null ? ""
            : ch.qos.logback.classic.spi.ThrowableProxyUtil.asString(event.getThrowableProxy()));
    }

    private static CohortSyncConfig config(final String appId, final String prefix) throws IOException {
        return config(appId, prefix, registry.ccompatUrl());
    }

    private static CohortSyncConfig config(final String appId, final String prefix, final String registryUrl)
        throws IOException {
        final Map<String, String> settings = new HashMap<>();
        settings.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        // Credentials in the URL: the service must use them without ever logging them.
        settings.put("schema-registry.url", registryUrl.replace("http://",
            "http://cohort-sync:" + REGISTRY_PASSWORD + "@"));
        settings.put("application-id", appId);
        settings.put("topic-prefix", prefix);
        settings.put("topics.replication-factor", "1");
        settings.put("state-dir", TestDirs.create("registry-outage").toString());
        // A replaced stream thread's consumer stays in the group until its session times out (Kafka closes it with
        // REMAIN_IN_GROUP): 10 s instead of the default 45 s keeps each retry short here.
        settings.put("streams-config.session.timeout.ms", "10000");
        settings.put("streams-config.heartbeat.interval.ms", "1000");
        return CohortSyncConfig.of(settings, """
            accounts:
              %s:
                webhook:
                  passcodes: ["%s"]
            """.formatted(ACCOUNT, FaultSecrets.PASSCODE));
    }

    // ------------------------------------------------------------------------------------------ records

    /** The request schema plus a field with a default: what a producer on a newer version writes. */
    private static final Schema EVOLVED = evolvedSchema();

    private static Schema evolvedSchema() {
        final Schema original = CohortSyncRequest.getClassSchema();
        final List<Schema.Field> fields = new ArrayList<>();
        original.getFields().forEach(field -> fields.add(new Schema.Field(field, field.schema())));
        fields.add(new Schema.Field("origin", Schema.create(Schema.Type.STRING), "where the request came from",
            "platform"));
        return Schema.createRecord(original.getName(), original.getDoc(), original.getNamespace(), false, fields);
    }

    private static GenericRecord evolved(final CohortSyncRequest request) throws IOException {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new SpecificDatumWriter<>(CohortSyncRequest.class).write(request, encoder);
        encoder.flush();
        final GenericRecord record = new GenericDatumReader<GenericRecord>(CohortSyncRequest.getClassSchema(), EVOLVED)
            .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
        record.put("origin", "evolved-producer");
        return record;
    }

    private static CohortSyncRequest request(final String cohortId, final String messageId, final String identity) {
        return CohortSyncRequest.newBuilder().setAccountId(ACCOUNT).setCohortId(cohortId)
            .setCohortName("Cohort " + cohortId).setMessageId(messageId).setComputedAt(Instant.ofEpochMilli(1_000))
            .setSyncType(SyncType.REAL_TIME).setOperation(Operation.ADD)
            .setMembers(List.of(Member.newBuilder().setUserProperties(Map.of("CleverTap_Identity", identity)).build()))
            .build();
    }

    private static int webhook(final CohortSyncService service, final String cohortId, final String messageId,
                               final String identity) throws IOException, InterruptedException {
        final String body = """
            {"cohort_name": "Cohort %s", "cohort_id": "%s", "in_cohort": true, "computed_time": "1692206763",
             "message_id": "%s", "users": [{"user_id": "%s", "user_properties": {"CleverTap_Identity": "%s"}}]}
            """.formatted(cohortId, cohortId, messageId, identity, identity);
        final HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + service.httpPort() + "/webhooks/amplitude"))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .header("X-CleverTap-Account-Id", ACCOUNT)
            .header("X-CleverTap-Passcode", FaultSecrets.PASSCODE)
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        SecretScan.assertNoSecret("the webhook's answer", response.body());
        return response.statusCode();
    }

    // ------------------------------------------------------------------------------------------ clients

    private static <V> KafkaProducer<String, V> producer(final Serializer<V> values) {
        final Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return new KafkaProducer<>(config, new StringSerializer(), values);
    }

    private static KafkaProducer<String, GenericRecord> evolvedProducer(final ConfluentAvroSerde<GenericRecord> serde) {
        return producer(serde.serializer());
    }

    private static void send(final KafkaProducer<String, CohortSyncRequest> producer, final String topic,
                             final CohortSyncRequest request) {
        producer.send(new ProducerRecord<>(topic, request.getAccountId() + "|" + request.getCohortId(), request));
        producer.flush();
    }

    private static void send(final KafkaProducer<String, GenericRecord> producer, final String topic,
                             final String key, final GenericRecord record) {
        try (producer) {
            producer.send(new ProducerRecord<>(topic, key, record));
            producer.flush();
        }
    }

    private static void sendRaw(final String topic, final String key, final byte[] value) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
            new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value));
            producer.flush();
        }
    }

    private static List<DeadLetter> deadLetters(final String topic, final ConfluentAvroSerde<DeadLetter> serde) {
        try (PartnerSyncReader.Reader<byte[], DeadLetter> reader = new PartnerSyncReader.Reader<>(topic,
            new ByteArrayDeserializer(), serde.deserializer())) {
            return reader.readToEnd().stream().map(ConsumerRecord::value).toList();
        }
    }

    private static ListAppender<ILoggingEvent> captureRoot() {
        final ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(appender);
        return appender;
    }

    /**
     * A read_committed reader of the Partner Sync topic that keeps what it has read: {@code "<cohort> <Action>"} per
     * event. Its deserializer caches the event schema during the warm-up, so it reads on through the outage.
     */
    private static final class PartnerSyncReader implements AutoCloseable {

        private final Reader<String, PartnerSyncEvent> reader;
        private final List<PartnerSyncEvent> read = new ArrayList<>();

        PartnerSyncReader(final String topic, final ConfluentAvroSerde<PartnerSyncEvent> serde) {
            this.reader = new Reader<>(topic, new StringDeserializer(), serde.deserializer());
        }

        synchronized List<String> poll() {
            reader.consumer.poll(Duration.ofMillis(100)).forEach(record -> read.add(record.value()));
            return read.stream().map(e -> e.getProperties().get("Partner Segment ID") + " "
                + e.getProperties().get("Action")).toList();
        }

        synchronized List<String> eventIds() {
            return read.stream().map(PartnerSyncEvent::getEventId).toList();
        }

        void awaitAll(final List<String> expected, final Duration timeout) {
            final List<String> wanted = List.copyOf(expected);
            await().atMost(timeout).pollInterval(Duration.ofMillis(200))
                .until(() -> Set.copyOf(poll()).containsAll(wanted));
        }

        @Override
        public void close() {
            reader.close();
        }

        /** A consumer assigned to every partition of a topic from the beginning, read_committed. */
        static final class Reader<K, V> implements AutoCloseable {
            private final KafkaConsumer<K, V> consumer;
            private final List<TopicPartition> partitions;

            Reader(final String topic, final org.apache.kafka.common.serialization.Deserializer<K> keys,
                   final org.apache.kafka.common.serialization.Deserializer<V> values) {
                final Map<String, Object> config = new HashMap<>();
                config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
                config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
                config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
                consumer = new KafkaConsumer<>(config, keys, values);
                partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
            }

            List<ConsumerRecord<K, V>> readToEnd() {
                final Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
                final List<ConsumerRecord<K, V>> records = new ArrayList<>();
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    consumer.poll(Duration.ofMillis(100)).forEach(records::add);
                    return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
                });
                return records;
            }

            @Override
            public void close() {
                consumer.close();
            }
        }
    }
}
