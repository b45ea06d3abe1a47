package io.cohortsync.export;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.EngagementEvent;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.export.emulator.AmplitudeEmulator;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.runtime.TopicBootstrapper;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import io.cohortsync.topology.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.management.ObjectName;

import static io.cohortsync.export.ExportOnBroker.assertPerUserOrder;
import static io.cohortsync.export.ExportOnBroker.committed;
import static io.cohortsync.export.ExportOnBroker.events;
import static io.cohortsync.export.ExportOnBroker.export;
import static io.cohortsync.export.ExportOnBroker.fastSettings;
import static io.cohortsync.export.ExportOnBroker.kafkaConfig;
import static io.cohortsync.export.ExportOnBroker.produce;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The exporter against the Amplitude emulator on a real broker (one broker for the class; each test has its own
 * topics, group and emulator): faults, a crash, and an account whose key Amplitude refuses.
 */
class AmplitudeExporterOnBrokerTest {

    private static final int PARTITIONS = 4;

    private static KafkaTestCluster kafka;

    @TempDir
    Path dir;

    private String prefix;
    private String registryScope;
    private Topics topics;
    private AmplitudeEmulator emulator;
    private final List<AmplitudeExporter> exporters = new ArrayList<>();

    @BeforeAll
    static void startKafka() {
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @BeforeEach
    void topics() {
        final String run = UUID.randomUUID().toString().substring(0, 8);
        prefix = "export-" + run + ".";
        registryScope = "export-it-" + run;
        topics = Topics.create(prefix, Map.of("schema.registry.url", "mock://" + registryScope));
        // Sized as cohort-sync creates them: the service refuses a dead-letter topic too small for its letters.
        final int maxMessageBytes = TopicBootstrapper.maxMessageBytes(ExportOnBroker.MAX_RECORD_BYTES);
        kafka.createTopics(Map.of(topics.amplitudeExport.name(), PARTITIONS, topics.deadLetters.name(), 1),
            Map.of("max.message.bytes", String.valueOf(maxMessageBytes)));
        ExportOnBroker.awaitLeaders(kafka.admin(), List.of(topics.amplitudeExport.name(), topics.deadLetters.name()));
    }

    @AfterEach
    void cleanUp() {
        exporters.forEach(AmplitudeExporter::close);
        if (emulator != null) {
            emulator.close();
        }
        MockSchemaRegistry.drop(registryScope);
    }

    private AmplitudeExporter start(final ExporterSettings settings, final Map<String, ExportSettings> accounts,
                                    final SimpleMeterRegistry registry) {
        final AmplitudeExporter exporter = AmplitudeExporter.start(settings, accounts,
            kafkaConfig(kafka.bootstrapServers()), topics, registry);
        exporters.add(exporter);
        return exporter;
    }

    /**
     * 100,000 events by default; {@code -Dexport.soak.events=1000000} makes it a soak (20 events per user). Not part
     * of CI at that size.
     */
    @Test
    void hundredThousandEventsUnderRandomFaultsArriveExactlyOnceAndInOrderPerUser() throws Exception {
        final int total = Integer.getInteger("export.soak.events", 100_000);
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("key-1"));
        emulator.faults(new AmplitudeEmulator.Faults(0.10, 0.5, 0.08, 0.08, 0.03, 0, 1500, 42));
        // Every kind of fault at least once, whatever the dice say; then random ones throughout.
        emulator.scriptNext(500, 413, 502, 429, 0, 503, 413, 504, 429);
        final List<AmplitudeEvent> valid = events("acct", Math.max(1, total / 20), 20);
        final List<AmplitudeEvent> all = new ArrayList<>(valid);
        final List<AmplitudeEvent> invalid = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            // Amplitude refuses "null" as an id: these must come back in a 400 and go to the dead-letter topic.
            final AmplitudeEvent bad = ExportOnBroker.event("acct", "null", i);
            bad.setDeviceId(null);
            invalid.add(bad);
            all.add(i * (valid.size() / 25), bad);
        }
        produce(kafka.bootstrapServers(), topics, all);
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final String group = "exporter-" + prefix;

        start(fastSettings(group, dir.resolve("dry.ndjson")),
            Map.of("acct", export("key-1", emulator, Endpoint.HTTP_V2)), registry);

        await().atMost(Duration.ofMinutes(2).plusSeconds(total / 1000)).pollInterval(Duration.ofMillis(250))
            .until(() -> emulator.stats().accepted() >= valid.size());
        final List<DeadLetter> deadLetters = ExportOnBroker.deadLetters(kafka.bootstrapServers(), topics,
            invalid.size(), Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(kafka.admin(), group).values().stream()
            .mapToLong(Long::longValue).sum() == all.size());

        final List<AmplitudeEmulator.Accepted> accepted = emulator.accepted();
        assertThat(accepted).hasSize(valid.size());
        assertThat(accepted.stream().map(AmplitudeEmulator.Accepted::insertId).collect(Collectors.toSet()))
            .isEqualTo(valid.stream().map(AmplitudeEvent::getInsertId).collect(Collectors.toSet()));
        assertPerUserOrder(accepted);
        assertThat(deadLetters).hasSize(invalid.size())
            .allSatisfy(letter -> {
                assertThat(letter.getReasonCode()).isEqualTo("AMPLITUDE_REJECTED");
                assertThat(letter.getMessage()).contains("user_id");
                assertThat(letter.getSourceTopic()).isEqualTo(topics.amplitudeExport.name());
            });
        final Map<Integer, Long> statuses = emulator.stats().statuses();
        assertThat(statuses).containsKeys(200, 400, 413, 429, 500, 502, 503, 504);
        assertThat(registry.get(ExportMetrics.EVENTS_SENT).tag("account", "acct").counter().count())
            .isGreaterThanOrEqualTo(valid.size());
        assertThat(registry.get(ExportMetrics.EVENTS_RETRIED).tag("cause", "429").counter().count()).isPositive();
        assertThat(registry.get(ExportMetrics.REQUESTS).tag("status", "timeout").counter().count()).isPositive();
        assertThat(registry.get(ExportMetrics.EVENTS_REJECTED).tag("reason", "AMPLITUDE_REJECTED").counter().count())
            .isEqualTo(invalid.size());
    }

    @Test
    void anExporterKilledMidBatchLosesNothingAndResendsWithTheSameInsertIds() throws Exception {
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("key-1"));
        emulator.faults(AmplitudeEmulator.Faults.none().withSlowMillis(100));
        final List<AmplitudeEvent> events = events("acct", 1000, 20);
        produce(kafka.bootstrapServers(), topics, events);
        final String group = "exporter-" + prefix;
        final ExporterSettings base = fastSettings(group, dir.resolve("dry.ndjson"));
        // Small requests, and no commit before the kill (however slow the machine): at the kill, events accepted but
        // not committed are certain.
        final ExporterSettings settings = new ExporterSettings(group, base.linger(), 4, 2000, 0,
            base.requestTimeout(), base.retryBackoff(), base.retryBackoffMax(), base.throttleWait(),
            base.dailyQuotaWait(), Duration.ofSeconds(1), base.dryRunFile(), base.closeTimeout(),
            base.maxRecordBytes());
        final ExporterSettings neverCommitting = new ExporterSettings(group, base.linger(), 4, 2000, 0,
            base.requestTimeout(), base.retryBackoff(), base.retryBackoffMax(), base.throttleWait(),
            base.dailyQuotaWait(), Duration.ofHours(1), base.dryRunFile(), base.closeTimeout(),
            base.maxRecordBytes());
        final Map<String, ExportSettings> accounts = Map.of("acct", export("key-1", emulator, Endpoint.HTTP_V2));

        final AmplitudeExporter first = start(neverCommitting, accounts, new SimpleMeterRegistry());
        await().atMost(Duration.ofMinutes(1)).until(() -> emulator.stats().accepted() >= events.size() / 4);
        first.halt();
        final long acceptedAtKill = emulator.stats().accepted();
        assertThat(acceptedAtKill).isLessThan(events.size());

        start(settings, accounts, new SimpleMeterRegistry());
        await().atMost(Duration.ofMinutes(1)).until(() -> emulator.stats().accepted() >= events.size());
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(kafka.admin(), group).values().stream()
            .mapToLong(Long::longValue).sum() == events.size());

        final List<AmplitudeEmulator.Accepted> accepted = emulator.accepted();
        assertThat(accepted).hasSize(events.size());
        assertThat(accepted.stream().map(AmplitudeEmulator.Accepted::insertId).collect(Collectors.toSet()))
            .isEqualTo(events.stream().map(AmplitudeEvent::getInsertId).collect(Collectors.toSet()));
        assertPerUserOrder(accepted);
        final List<AmplitudeEmulator.Accepted> resent = emulator.duplicates();
        assertThat(resent).as("events accepted before the kill but not committed are sent again").isNotEmpty();
        final Map<String, AmplitudeEmulator.Accepted> byInsertId = accepted.stream()
            .collect(Collectors.toMap(AmplitudeEmulator.Accepted::insertId, Function.identity()));
        assertThat(resent).allSatisfy(copy -> {
            final AmplitudeEmulator.Accepted original = byInsertId.get(copy.insertId());
            assertThat(original).as("a resent event carries its first send's insert_id").isNotNull();
            assertThat(copy.userId()).isEqualTo(original.userId());
            assertThat(copy.eventProperties()).isEqualTo(original.eventProperties());
        });
    }

    @Test
    void onlyTheThrottledUserWaitsWhileEveryoneElseKeepsFlowing() throws Exception {
        // Amplitude's own throttle (30 events/s per id over the last second), no random faults.
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("key-1").withEpsThreshold(30));
        final List<AmplitudeEvent> all = new ArrayList<>();
        for (int seq = 0; seq < 90; seq++) {
            all.add(ExportOnBroker.event("acct", "hot-user-1", seq));
        }
        final List<AmplitudeEvent> cold = events("acct", 400, 2);
        all.addAll(cold);
        produce(kafka.bootstrapServers(), topics, all);
        final ExporterSettings base = fastSettings("exporter-" + prefix, dir.resolve("dry.ndjson"));
        final ExporterSettings settings = new ExporterSettings(base.groupId(), base.linger(), 4, 50_000, 0,
            base.requestTimeout(), base.retryBackoff(), base.retryBackoffMax(), Duration.ofSeconds(1),
            base.dailyQuotaWait(), base.commitInterval(), base.dryRunFile(), base.closeTimeout(),
            base.maxRecordBytes());

        start(settings, Map.of("acct", export("key-1", emulator, Endpoint.HTTP_V2)), new SimpleMeterRegistry());
        await().atMost(Duration.ofMinutes(1)).until(() -> emulator.stats().accepted() >= all.size());

        final List<AmplitudeEmulator.Accepted> accepted = emulator.accepted();
        assertThat(accepted).hasSize(all.size());
        assertPerUserOrder(accepted);
        assertThat(emulator.stats().statuses()).containsKey(429);
        final long lastCold = accepted.stream().filter(e -> !e.userId().equals("hot-user-1"))
            .mapToLong(AmplitudeEmulator.Accepted::sequence).max().orElseThrow();
        final long lastHot = accepted.stream().filter(e -> e.userId().equals("hot-user-1"))
            .mapToLong(AmplitudeEmulator.Accepted::sequence).max().orElseThrow();
        assertThat(lastCold).as("the other users finished while the hot one was still throttled").isLessThan(lastHot);
    }

    /**
     * A user throttled for a long time holds events in the buffer until it is full. Only the partition holding them
     * may stop reading: the users on the other partitions keep flowing (with one buffer for all, they waited too).
     */
    @Test
    void aPartitionStuckBehindAThrottledUserFillsOnlyItsShareOfTheBufferAndTheOthersKeepFlowing() throws Exception {
        // The exporter paces each user at 60 events/s; this Amplitude allows 30, so the hot user is throttled.
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("key-1").withEpsThreshold(30));
        final List<AmplitudeEvent> hot = new ArrayList<>();
        for (int seq = 0; seq < 500; seq++) {
            hot.add(ExportOnBroker.event("acct", "hot-user-1", seq));
        }
        final int hotPartition = produce(kafka.bootstrapServers(), topics, hot).get(0).partition();
        final ExporterSettings base = fastSettings("exporter-" + prefix, dir.resolve("dry.ndjson"));
        final ExporterSettings settings = new ExporterSettings(base.groupId(), base.linger(), 4, 200, 60,
            base.requestTimeout(), base.retryBackoff(), base.retryBackoffMax(), Duration.ofMinutes(10),
            base.dailyQuotaWait(), base.commitInterval(), base.dryRunFile(), base.closeTimeout(),
            base.maxRecordBytes());
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        start(settings, Map.of("acct", export("key-1", emulator, Endpoint.HTTP_V2)), registry);
        await().atMost(Duration.ofSeconds(30)).until(() -> emulator.stats().statuses().containsKey(429));

        // The buffer now holds the hot user's 500 events, over its limit of 200; the others arrive after.
        final List<AmplitudeEvent> cold = events("acct", 6000, 1);
        final List<RecordMetadata> coldPlaces = produce(kafka.bootstrapServers(), topics, cold);
        final Set<String> coldElsewhere = new HashSet<>();
        for (int i = 0; i < cold.size(); i++) {
            if (coldPlaces.get(i).partition() != hotPartition) {
                coldElsewhere.add(cold.get(i).getUserId());
            }
        }
        await().atMost(Duration.ofMinutes(1)).until(() -> emulator.accepted().stream()
            .map(AmplitudeEmulator.Accepted::userId).collect(Collectors.toSet()).containsAll(coldElsewhere));

        assertThat(emulator.accepted()).as("the hot user waits out its 10-minute throttle")
            .filteredOn(event -> event.userId().equals("hot-user-1")).hasSizeLessThan(hot.size());
        // The exporter applies the last answers a moment after the emulator recorded them.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(registry.get("cohort.sync.export.paused.partitions").gauge().value())
                .as("only the hot user's partition is paused").isEqualTo(1.0));
    }

    /**
     * A user throttled for a long time while every other user's events are accepted: the exporter holds only what is
     * unfinished (a full GC finds no more of its events than the buffer may hold), not every event read after the
     * throttled one, and commits up to the throttled event; once the throttle ends, everything is committed.
     */
    @Test
    void eventsAcceptedBehindALongThrottledUserAreLetGoAndOnlyHeHoldsBackTheCommit() throws Exception {
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("key-1"));
        final List<AmplitudeEvent> warmUp = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            warmUp.add(ExportOnBroker.event("acct", "warm-user-" + i, 0));
        }
        produce(kafka.bootstrapServers(), topics, warmUp);
        final int maxBuffered = 1000;
        // Long enough that 20,000 events are accepted and checked before it ends, even on a loaded 2-core machine.
        final Duration throttleWait = Duration.ofSeconds(60);
        final ExporterSettings base = fastSettings("exporter-" + prefix, dir.resolve("dry.ndjson"));
        final ExporterSettings settings = new ExporterSettings(base.groupId(), base.linger(), 4, maxBuffered, 0,
            base.requestTimeout(), base.retryBackoff(), base.retryBackoffMax(), throttleWait, base.dailyQuotaWait(),
            base.commitInterval(), base.dryRunFile(), base.closeTimeout(), base.maxRecordBytes());
        start(settings, Map.of("acct", export("key-1", emulator, Endpoint.HTTP_V2)), new SimpleMeterRegistry());
        await().atMost(Duration.ofSeconds(30)).until(() -> emulator.stats().accepted() == warmUp.size());

        // The hot user's request, alone in flight, is the one the scripted 429 throttles.
        emulator.scriptNext(429);
        final List<AmplitudeEvent> hot = new ArrayList<>();
        for (int seq = 0; seq < 5; seq++) {
            hot.add(ExportOnBroker.event("acct", "hot-user-1", seq));
        }
        final RecordMetadata firstHot = produce(kafka.bootstrapServers(), topics, hot).get(0);
        await().atMost(Duration.ofSeconds(10)).until(() -> emulator.stats().statuses().containsKey(429));
        final List<AmplitudeEvent> cold = events("acct", 20_000, 1);
        produce(kafka.bootstrapServers(), topics, cold);
        await().atMost(Duration.ofMinutes(1)).until(() ->
            emulator.stats().accepted() == warmUp.size() + cold.size());

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(liveInstances(PendingEvent.class)).as("events the exporter still holds")
                .isLessThanOrEqualTo(maxBuffered));
        final TopicPartition hotPartition = new TopicPartition(firstHot.topic(), firstHot.partition());
        await().atMost(Duration.ofSeconds(10)).until(() ->
            committed(kafka.admin(), base.groupId()).getOrDefault(hotPartition, 0L) == firstHot.offset());
        assertThat(emulator.accepted()).as("the hot user was still throttled").noneMatch(event ->
            event.userId().equals("hot-user-1"));

        final int total = warmUp.size() + hot.size() + cold.size();
        await().atMost(throttleWait.plusSeconds(30)).until(() -> emulator.stats().accepted() == total);
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(kafka.admin(), base.groupId()).values()
            .stream().mapToLong(Long::longValue).sum() == total);
        assertPerUserOrder(emulator.accepted());
    }

    @Test
    void aRefusedApiKeyStopsOnlyThatAccountAndItsOffsetsStayPut() throws Exception {
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("good-key"));
        final List<AmplitudeEvent> good = events("good", 200, 5);
        final List<AmplitudeEvent> bad = events("bad", 200, 5);
        final List<AmplitudeEvent> all = new ArrayList<>();
        for (int i = 0; i < good.size(); i++) {
            all.add(good.get(i));
            all.add(bad.get(i));
        }
        final List<RecordMetadata> written = produce(kafka.bootstrapServers(), topics, all);
        final Map<TopicPartition, Long> firstBadOffset = new HashMap<>();
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).getAccountId().equals("bad")) {
                firstBadOffset.merge(new TopicPartition(written.get(i).topic(), written.get(i).partition()),
                    written.get(i).offset(), Math::min);
            }
        }
        final ListAppender<ILoggingEvent> log = captureExporterLog();
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final String group = "exporter-" + prefix;

        final AmplitudeExporter exporter = start(fastSettings(group, dir.resolve("dry.ndjson")), Map.of(
            "good", export("good-key", emulator, Endpoint.BATCH),
            "bad", export("bad-key-s3cret", emulator, Endpoint.BATCH)), registry);

        await().atMost(Duration.ofMinutes(1)).until(() -> emulator.stats().accepted() >= good.size());
        await().atMost(Duration.ofSeconds(10)).until(() ->
            registry.get(ExportMetrics.STOPPED).tag("account", "bad").gauge().value() == 1.0);
        // Nothing of the refused account may arrive later either.
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
            .until(() -> emulator.accepted().size() == good.size());
        assertThat(emulator.accepted()).hasSize(good.size())
            .allSatisfy(event -> assertThat(event.path()).isEqualTo(AmplitudeEmulator.BATCH_PATH));
        assertThat(exporter.isRunning()).isTrue();
        final Map<TopicPartition, Long> offsets = committed(kafka.admin(), group);
        firstBadOffset.forEach((partition, offset) ->
            assertThat(offsets.getOrDefault(partition, 0L)).as("%s", partition).isLessThanOrEqualTo(offset));
        ((Logger) LoggerFactory.getLogger(AmplitudeExporter.class)).detachAppender(log);
        final List<ILoggingEvent> errors = log.list.stream().filter(e -> e.getLevel() == Level.ERROR).toList();
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).getFormattedMessage()).contains("STOPPED for account 'bad'", "api-key");
        assertThat(log.list).noneSatisfy(e -> assertThat(e.getFormattedMessage()).contains("bad-key-s3cret"));
    }

    /**
     * Requests of one account in flight when another of its requests stops it (401): answered 503 afterwards, their
     * events are parked as the stop parks the queued ones, not put back in queues that no longer send. They leave the
     * account's pending events and the exporter's buffer (whose share would otherwise pause the partitions for good and
     * starve the other accounts), and their offsets stay uncommitted.
     */
    @Test
    void eventsOfRequestsAnsweredAfterTheirAccountStoppedAreParked() throws Exception {
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("good-key"));
        final List<AmplitudeEvent> bad = events("bad", 8000, 1);
        final List<RecordMetadata> written = produce(kafka.bootstrapServers(), topics, bad);
        final Map<TopicPartition, Long> firstBadOffset = new HashMap<>();
        written.forEach(place -> firstBadOffset.merge(new TopicPartition(place.topic(), place.partition()),
            place.offset(), Math::min));
        final ExporterSettings base = fastSettings("exporter-" + prefix, dir.resolve("dry.ndjson"));
        final int maxBuffered = 1000;
        final ExporterSettings settings = new ExporterSettings(base.groupId(), base.linger(), 4, maxBuffered, 0,
            base.requestTimeout(), base.retryBackoff(), base.retryBackoffMax(), base.throttleWait(),
            base.dailyQuotaWait(), base.commitInterval(), base.dryRunFile(), base.closeTimeout(),
            base.maxRecordBytes());
        // The whole backlog in the first poll, so that several full requests are in flight before reading pauses.
        final Map<String, Object> kafkaConfig = new HashMap<>(kafkaConfig(kafka.bootstrapServers()));
        kafkaConfig.put("max.poll.records", bad.size());
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();

        try (HeldAmplitude held = HeldAmplitude.start()) {
            exporters.add(AmplitudeExporter.start(settings, Map.of(
                "good", export("good-key", emulator, Endpoint.HTTP_V2),
                "bad", new ExportSettings(Secret.of("bad-key"), Residency.EU, held.baseUrl(), null, null,
                    Endpoint.HTTP_V2, EventSelection.ALL, null, 5)), kafkaConfig, topics, registry));
            await().atMost(Duration.ofSeconds(30)).until(() -> held.requests() >= 2);
            held.refuseFirst();
            await().atMost(Duration.ofSeconds(10)).until(() ->
                registry.get(ExportMetrics.STOPPED).tag("account", "bad").gauge().value() == 1.0);
            held.failOthers();

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(registry.get(ExportMetrics.PENDING).tag("account", "bad").gauge().value())
                    .as("pending events of the stopped account").isZero());
            final List<AmplitudeEvent> good = events("good", 400, 1);
            produce(kafka.bootstrapServers(), topics, good);
            await().atMost(Duration.ofSeconds(30)).until(() -> emulator.stats().accepted() == good.size());
            assertThat(registry.get("cohort.sync.export.paused.partitions").gauge().value()).isZero();
            final Map<TopicPartition, Long> offsets = committed(kafka.admin(), base.groupId());
            firstBadOffset.forEach((partition, offset) ->
                assertThat(offsets.getOrDefault(partition, 0L)).as("%s", partition).isLessThanOrEqualTo(offset));
        }
    }

    /**
     * Amplitude's silenced-device 400: the silenced device's events are refused for good (dead-lettered), the
     * throttled device's wait out the throttle, the others go again at once.
     */
    @Test
    void aSilencedDeviceIsDeadLetteredAndAThrottledOneWaitsWhileTheOthersGoAgainAtOnce() throws Exception {
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("eps-key"));
        emulator.scriptNext(400);
        final List<AmplitudeEvent> all = events("eps", 10, 2);
        produce(kafka.bootstrapServers(), topics, all);
        final Duration throttleWait = Duration.ofSeconds(1);
        final ExporterSettings fast = fastSettings("exporter-" + prefix, dir.resolve("dry.ndjson"));
        final ExporterSettings settings = new ExporterSettings(fast.groupId(), fast.linger(),
            fast.maxInFlightRequests(), fast.maxBufferedEvents(), fast.maxEventsPerIdPerSecond(), fast.requestTimeout(),
            fast.retryBackoff(), fast.retryBackoffMax(), throttleWait, fast.dailyQuotaWait(), fast.commitInterval(),
            fast.dryRunFile(), fast.closeTimeout(), fast.maxRecordBytes());

        start(settings, Map.of("eps", export("eps-key", emulator, Endpoint.HTTP_V2)), new SimpleMeterRegistry());
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5))
            .until(() -> emulator.stats().statuses().getOrDefault(400, 0L) == 1);
        final long answered = System.nanoTime();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5))
            .until(() -> emulator.accepted().size() == all.size() - 2);
        final long allAccepted = System.nanoTime();

        final List<DeadLetter> letters = ExportOnBroker.deadLetters(kafka.bootstrapServers(), topics, 2,
            Duration.ofSeconds(30));
        assertThat(letters).hasSize(2).allSatisfy(letter -> assertThat(letter.getMessage()).contains("silenced"));
        final List<AmplitudeEmulator.Accepted> accepted = emulator.accepted();
        final String throttledDevice = accepted.get(accepted.size() - 1).deviceId();
        assertThat(accepted.subList(accepted.size() - 2, accepted.size()))
            .as("the throttled device's two events come last").extracting(AmplitudeEmulator.Accepted::deviceId)
            .containsOnly(throttledDevice);
        assertThat(Duration.ofNanos(allAccepted - answered)).as("they waited out the throttle")
            .isGreaterThanOrEqualTo(throttleWait.minusMillis(50));
    }

    /** Amplitude's firewall answers 403 to a request holding a value it dislikes; only that event may suffer. */
    @Test
    void anEventTheFirewallRefusesIsIsolatedAndDeadLetteredAndTheAccountGoesOn() throws Exception {
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("waf-key")
            .withFirewallBlocking("<script>"));
        final List<AmplitudeEvent> all = new ArrayList<>(events("waf", 40, 3));
        final AmplitudeEvent blocked = withProperties(all, 61, Map.of("Campaign", "<script>alert(1)</script>"));
        produce(kafka.bootstrapServers(), topics, all);
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();

        final AmplitudeExporter exporter = start(fastSettings("exporter-" + prefix, dir.resolve("dry.ndjson")),
            Map.of("waf", export("waf-key", emulator, Endpoint.HTTP_V2)), registry);

        await().atMost(Duration.ofMinutes(1)).until(() -> emulator.stats().accepted() >= all.size() - 1);
        final List<DeadLetter> letters = ExportOnBroker.deadLetters(kafka.bootstrapServers(), topics, 1,
            Duration.ofSeconds(30));
        assertThat(letters).singleElement().satisfies(letter -> {
            assertThat(letter.getReasonCode()).isEqualTo("AMPLITUDE_REJECTED");
            assertThat(letter.getMessage()).contains("403", "this event alone");
        });
        assertThat(emulator.accepted()).extracting(AmplitudeEmulator.Accepted::insertId).hasSize(all.size() - 1)
            .doesNotContain(blocked.getInsertId());
        assertThat(registry.get(ExportMetrics.STOPPED).tag("account", "waf").gauge().value()).isZero();
        assertThat(exporter.isRunning()).isTrue();
    }

    /** A 400 naming only an event index the request does not have names none: resending it as is would loop. */
    @Test
    void aBadRequestNamingNoEventOfTheRequestIsolatesTheEventInsteadOfResendingForEver() throws Exception {
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("mis-key")
            .withMisnumbered400For("poisoned-value"));
        final List<AmplitudeEvent> all = new ArrayList<>(events("mis", 40, 3));
        final AmplitudeEvent poisoned = withProperties(all, 17, Map.of("Campaign", "poisoned-value"));
        produce(kafka.bootstrapServers(), topics, all);

        start(fastSettings("exporter-" + prefix, dir.resolve("dry.ndjson")),
            Map.of("mis", export("mis-key", emulator, Endpoint.HTTP_V2)), new SimpleMeterRegistry());

        await().atMost(Duration.ofMinutes(1)).until(() -> emulator.stats().accepted() >= all.size() - 1);
        assertThat(ExportOnBroker.deadLetters(kafka.bootstrapServers(), topics, 1, Duration.ofSeconds(30)))
            .singleElement().satisfies(letter -> assertThat(letter.getMessage()).contains("400", "this event alone"));
        assertThat(emulator.accepted()).extracting(AmplitudeEmulator.Accepted::insertId).hasSize(all.size() - 1)
            .doesNotContain(poisoned.getInsertId());
        assertThat(emulator.stats().requests()).as("halving, not a resend loop").isLessThan(40);
    }

    /**
     * The same under load: full requests, all four in flight, events arriving throughout. The refused request's events
     * go again only among themselves, in halves, whatever the concurrent successes: the event is dead-lettered after
     * about log2(2000) refusals, and the other users' events are accepted meanwhile.
     */
    @Test
    void anEventTheFirewallRefusesUnderLoadIsIsolatedInAboutLog2RefusalsWhileTheOthersFlow() throws Exception {
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("waf-key")
            .withFirewallBlocking("<script>"));
        emulator.faults(AmplitudeEmulator.Faults.none().withSlowMillis(20));
        final List<AmplitudeEvent> all = new ArrayList<>(events("waf", 3000, 10));
        final AmplitudeEvent blocked = withProperties(all, 1500,
            Map.of("seq", "0", "Campaign", "<script>alert(1)</script>"));
        produce(kafka.bootstrapServers(), topics, all);
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        start(fastSettings("exporter-" + prefix, dir.resolve("dry.ndjson")),
            Map.of("waf", export("waf-key", emulator, Endpoint.HTTP_V2)), registry);
        final ExecutorService producer = Executors.newSingleThreadExecutor();
        final AtomicBoolean producing = new AtomicBoolean(true);
        final Future<List<AmplitudeEvent>> later = producer.submit(() -> produceUntil(producing, 1000, 10));

        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(1))
            .until(() -> emulator.stats().statuses().containsKey(403));
        final long acceptedAtFirstRefusal = emulator.stats().accepted();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(1)).until(() ->
            registry.find(ExportMetrics.EVENTS_REJECTED).tag("reason", "AMPLITUDE_REJECTED").counter() != null);
        final long acceptedAtDeadLetter = emulator.stats().accepted();
        final long refusals = emulator.stats().statuses().get(403);
        producing.set(false);
        all.addAll(later.get(1, TimeUnit.MINUTES));
        producer.shutdown();

        assertThat(refusals).as("403s until the event was alone: log2(2000) and a few").isLessThanOrEqualTo(15);
        assertThat(acceptedAtDeadLetter).as("other events accepted meanwhile").isGreaterThan(acceptedAtFirstRefusal);
        await().atMost(Duration.ofMinutes(1)).until(() -> emulator.stats().accepted() >= all.size() - 1);
        assertThat(emulator.accepted()).extracting(AmplitudeEmulator.Accepted::insertId).hasSize(all.size() - 1)
            .doesNotContain(blocked.getInsertId());
        assertPerUserOrder(emulator.accepted());
        assertThat(ExportOnBroker.deadLetters(kafka.bootstrapServers(), topics, 1, Duration.ofSeconds(30)))
            .singleElement().satisfies(letter -> assertThat(letter.getMessage()).contains("403", "this event alone"));
    }

    /** Produces one event for each of the first {@code users} users, then the next, ... until told to stop. */
    private List<AmplitudeEvent> produceUntil(final AtomicBoolean producing, final int users, final int firstSeq)
        throws Exception {
        final List<AmplitudeEvent> produced = new ArrayList<>();
        for (int seq = firstSeq; producing.get(); seq++) {
            final List<AmplitudeEvent> round = new ArrayList<>(users);
            for (int user = 0; user < users; user++) {
                round.add(ExportOnBroker.event("waf", String.format("user-%06d", user), seq));
            }
            produce(kafka.bootstrapServers(), topics, round);
            produced.addAll(round);
        }
        return produced;
    }

    /** A wrong base-url path makes Amplitude refuse every request: a few events are dead-lettered, then it stops. */
    @Test
    void anAccountWhoseEveryRequestIsRefusedStopsAfterAFewDeadLettersInsteadOfDeadLetteringEverything()
        throws Exception {
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("path-key"));
        final List<AmplitudeEvent> all = events("path", 50, 2);
        produce(kafka.bootstrapServers(), topics, all);
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final ExportSettings wrongPath = new ExportSettings(Secret.of("path-key"), Residency.EU,
            emulator.baseUrl().resolve("/wrong/"), null, null, Endpoint.HTTP_V2, EventSelection.ALL, null, 5);

        final AmplitudeExporter exporter = start(fastSettings("exporter-" + prefix, dir.resolve("dry.ndjson")),
            Map.of("path", wrongPath), registry);

        await().atMost(Duration.ofMinutes(1)).until(() ->
            registry.get(ExportMetrics.STOPPED).tag("account", "path").gauge().value() == 1.0);
        final List<DeadLetter> letters = ExportOnBroker.deadLetters(kafka.bootstrapServers(), topics,
            AnswerPolicy.MAX_REFUSED_ALONE, Duration.ofSeconds(30));
        assertThat(letters).hasSize(AnswerPolicy.MAX_REFUSED_ALONE)
            .allSatisfy(letter -> assertThat(letter.getMessage()).contains("Invalid request path"));
        assertThat(emulator.accepted()).isEmpty();
        assertThat(exporter.isRunning()).isTrue();
    }

    /**
     * The dead-letter producer's serializer cannot reach the registry for a while (send throws), both for a record
     * dead-lettered as it is read and for one Amplitude rejects: the exporter goes on, each letter is written once the
     * registry answers, exactly once, and the commits move past both records.
     */
    @Test
    void deadLettersTheRegistryCannotTakeYetAreWrittenOnceItCanAndTheCommitMovesOn() throws Exception {
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("key-1"));
        final List<AmplitudeEvent> all = new ArrayList<>(events("acct", 20, 3));
        // An account without an export section: its record is dead-lettered as the exporter reads it.
        all.add(30, ExportOnBroker.event("ghost", "user-000001", 0));
        // Amplitude refuses "null" as an id: a 400 lists it, and the answer's handler dead-letters it.
        final AmplitudeEvent refused = ExportOnBroker.event("acct", "null", 0);
        refused.setDeviceId(null);
        all.add(40, refused);
        produce(kafka.bootstrapServers(), topics, all);
        final String group = "exporter-" + prefix;
        try (FlakyRegistry registry = FlakyRegistry.start(registryScope, topics.deadLetters.name() + "-value")) {
            final AmplitudeExporter exporter = AmplitudeExporter.start(fastSettings(group, dir.resolve("dry.ndjson")),
                Map.of("acct", export("key-1", emulator, Endpoint.HTTP_V2)), kafkaConfig(kafka.bootstrapServers()),
                Topics.create(prefix, Map.of("schema.registry.url", registry.url())), new SimpleMeterRegistry());
            exporters.add(exporter);
            await().atMost(Duration.ofMinutes(1)).until(() -> emulator.stats().statuses().containsKey(400)
                && emulator.stats().accepted() == all.size() - 2);
            // Two more failed sends (three calls each): the letter of the 400's event was tried while it was down.
            final int refusedAtAnswer = registry.refused();
            await().atMost(Duration.ofSeconds(30)).until(() -> registry.refused() >= refusedAtAnswer + 6);

            registry.recover();
            await().atMost(Duration.ofSeconds(30)).until(() -> committed(kafka.admin(), group).values().stream()
                .mapToLong(Long::longValue).sum() == all.size());
            assertThat(exporter.isRunning()).isTrue();
        }
        assertThat(ExportOnBroker.deadLetters(kafka.bootstrapServers(), topics, 2, Duration.ofSeconds(30)))
            .extracting(DeadLetter::getReasonCode).containsExactlyInAnyOrder("UNKNOWN_ACCOUNT", "AMPLITUDE_REJECTED");
    }

    @Test
    void theServiceExportsSelectedEventsToEuOverBatchAndADryRunAccountToTheNdjsonFile() throws Exception {
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting("eu-key"));
        final String appId = "export-service-" + prefix.substring(7, 15);
        final Path dryRun = dir.resolve("amplitude-requests.ndjson");
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of(
            "kafka.bootstrap-servers", kafka.bootstrapServers(),
            "schema-registry.url", "mock://" + registryScope,
            "application-id", appId,
            "topic-prefix", prefix,
            "topics.replication-factor", "1",
            "state-dir", dir.resolve("state").toString(),
            "export.dry-run-file", dryRun.toString(),
            "export.linger", "20ms"), """
            accounts:
              eu:
                export:
                  api-key: eu-key
                  residency: EU
                  base-url: %s
                  endpoint: BATCH
                  events: ENGAGEMENT
              dry:
                export:
                  events: SELECTED
                  selected: ["Notification Clicked"]
            """.formatted(emulator.baseUrl()));
        final Map<String, EngagementEvent> events = new java.util.LinkedHashMap<>();
        for (int i = 0; i < 10; i++) {
            final String name = i % 2 == 0 ? "Notification Clicked" : "Charged";
            events.put("eu|object-" + i, engagement("eu", "object-" + i, name, i));
            events.put("dry|object-" + i, engagement("dry", "object-" + i, name, i));
        }

        try (CohortSyncService service = CohortSyncService.start(config)) {
            assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
            assertThat(service.exporter()).isNotNull();
            ExportOnBroker.awaitLeaders(kafka.admin(), List.of(topics.engagementEvents.name()));
            ExportOnBroker.produceEngagement(kafka.bootstrapServers(), topics, events);

            await().atMost(Duration.ofMinutes(1)).until(() -> emulator.stats().accepted() >= 5
                && java.nio.file.Files.exists(dryRun) && java.nio.file.Files.readAllLines(dryRun).stream()
                .mapToInt(line -> line.split("\"event_type\"", -1).length - 1).sum() >= 5);
        }
        assertThat(emulator.accepted()).hasSize(5).allSatisfy(event -> {
            assertThat(event.path()).isEqualTo(AmplitudeEmulator.BATCH_PATH);
            assertThat(event.eventType()).isEqualTo("Notification Clicked");
            assertThat(event.userId()).startsWith("identity-");
        });
        final List<String> lines = java.nio.file.Files.readAllLines(dryRun);
        assertThat(lines).allSatisfy(line -> assertThat(line)
            .startsWith("{\"account\":\"dry\",\"url\":\"https://api2.amplitude.com/2/httpapi\"")
            .contains("\"body\":{\"api_key\":\"\",\"events\":[").contains("\"options\":{\"min_id_length\":5}")
            .doesNotContain("Charged"));
        assertThat(String.join("\n", lines)).doesNotContain("eu-key");
    }

    private static EngagementEvent engagement(final String account, final String objectId, final String name,
                                              final int i) {
        return EngagementEvent.newBuilder().setAccountId(account).setObjectId(objectId)
            .setIdentity("identity-" + objectId).setDeviceId("device-" + objectId).setEventName(name)
            .setTimestamp(java.time.Instant.ofEpochMilli(ExportOnBroker.BASE_TIME + i))
            .setProperties(Map.of("Campaign", "spring")).build();
    }

    @Test
    void amplitudeResponsesAreClassifiedByStatusAndBody() {
        assertThat(AmplitudeResponse.of(401, "{\"code\":401}").authenticationFailed()).isTrue();
        assertThat(AmplitudeResponse.of(403, "{\"code\":403,\"error\":\"Forbidden\"}").authenticationFailed())
            .as("a 403 is Amplitude's firewall refusing a value, not the key").isFalse();
        assertThat(AmplitudeResponse.of(400, "{\"code\":400,\"error\":\"Invalid API key: x\"}").authenticationFailed())
            .isTrue();
        assertThat(AmplitudeResponse.of(400, "{\"code\":400,\"error\":\"Request missing required field\","
            + "\"missing_field\":\"api_key\"}").authenticationFailed()).isTrue();
        final AmplitudeResponse rejected = AmplitudeResponse.of(400, "{\"code\":400,\"error\":\"Invalid field values "
            + "on some events\",\"events_with_invalid_fields\":{\"time\":[3]},\"events_with_missing_fields\":"
            + "{\"event_type\":[5,6]},\"silenced_events\":[9]}");
        assertThat(rejected.authenticationFailed()).isFalse();
        assertThat(rejected.rejectedEvents()).containsOnlyKeys(3, 5, 6, 9);
        assertThat(rejected.rejectedEvents().get(3)).contains("invalid field 'time'");
        final AmplitudeResponse throttled = AmplitudeResponse.of(429, "{\"code\":429,\"throttled_users\":{\"u1\":31},"
            + "\"throttled_devices\":{\"d1\":40},\"throttled_events\":[3,4],\"exceeded_daily_quota_users\":"
            + "{\"u9\":500001}}");
        assertThat(throttled.throttledUsers()).isEqualTo(Set.of("u1"));
        assertThat(throttled.throttledDevices()).isEqualTo(Set.of("d1"));
        assertThat(throttled.throttledEvents()).isEqualTo(Set.of(3, 4));
        assertThat(throttled.quotaUsers()).isEqualTo(Set.of("u9"));
        assertThat(AmplitudeResponse.of(503, "").transientFailure()).isTrue();
        assertThat(AmplitudeResponse.failed(new java.net.http.HttpTimeoutException("slow"), true).statusLabel())
            .isEqualTo("timeout");
    }

    /** Live instances of {@code type} in this JVM, counted after a full GC (as {@code jcmd GC.class_histogram}). */
    private static long liveInstances(final Class<?> type) throws Exception {
        final String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
            new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
            new Object[] {new String[0]}, new String[] {String[].class.getName()});
        return histogram.lines().map(line -> line.trim().split("\\s+"))
            .filter(columns -> columns.length >= 4 && columns[3].equals(type.getName()))
            .mapToLong(columns -> Long.parseLong(columns[1])).sum();
    }

    private static ListAppender<ILoggingEvent> captureExporterLog() {
        final Logger logger = (Logger) LoggerFactory.getLogger(AmplitudeExporter.class);
        final ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        return appender;
    }

    /** Replaces event {@code index} by a copy with these properties (a value Amplitude will refuse); returns it. */
    private static AmplitudeEvent withProperties(final List<AmplitudeEvent> events, final int index,
                                                 final Map<String, String> properties) {
        final AmplitudeEvent changed = AmplitudeEvent.newBuilder(events.get(index)).setEventProperties(properties)
            .build();
        events.set(index, changed);
        return changed;
    }
}
