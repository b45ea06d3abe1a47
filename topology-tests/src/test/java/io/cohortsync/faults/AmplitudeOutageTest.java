package io.cohortsync.faults;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.cohortsync.avro.EngagementEvent;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.export.AmplitudeExporter;
import io.cohortsync.export.ExportOnBroker;
import io.cohortsync.export.emulator.AmplitudeEmulator;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.runtime.ConsumerLag;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import io.cohortsync.testing.TestDirs;
import io.cohortsync.topology.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Suite 6, Amplitude outage: the whole service (engagement-events, the export sub-topology, amplitude-export, the
 * exporter) against the Amplitude emulator, which answers 503 to every request for the outage window while events
 * keep arriving. The backlog must wait in Kafka (the exporter's group commits nothing Amplitude did not accept, its
 * lag grows), the retries must back off (requests during the outage are counted and bounded), and after the outage
 * every event must arrive exactly once, in per-user order, with the insert_id it was first sent with.
 *
 * <p>CI: a 40 s outage. Soak ({@code -Dcohort-sync.soak=true}): 5 minutes, with more users and events.
 */
@ExtendWith(SecretScan.class)
class AmplitudeOutageTest {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(AmplitudeOutageTest.class);
    private static final Duration OUTAGE = Soak.pick(Duration.ofSeconds(40), Duration.ofMinutes(5));
    private static final int USERS = Soak.pick(40, 200);
    private static final int WARM_UP_EVENTS = 200;
    /** Events produced every {@link #TICK} while Amplitude is down. */
    private static final int PER_TICK = Soak.pick(20, 40);
    private static final Duration TICK = Duration.ofMillis(250);
    /** The exporter's retry settings in this suite (the defaults are 200 ms and 30 s). */
    private static final Duration RETRY_BACKOFF = Duration.ofMillis(200);
    private static final Duration RETRY_BACKOFF_MAX = Duration.ofSeconds(5);
    private static final int MAX_IN_FLIGHT = 4;
    private static final String ACCOUNT = "amp";

    private static KafkaTestCluster kafka;

    @TempDir
    Path dir;

    @BeforeAll
    static void startKafka() {
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @Test
    void a503OutageLeavesTheBacklogInKafkaAndItDrainsExactlyOnceWithTheSameInsertIds() throws Exception {
        final String run = UUID.randomUUID().toString().substring(0, 8);
        final String appId = "amp-outage-" + run;
        final String prefix = appId + ".";
        final String registryScope = "amp-outage-" + run;
        final String exporterGroup = appId + "-amplitude-exporter";
        final ListAppender<ILoggingEvent> exporterLog = capture(AmplitudeExporter.class);
        final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
        try (AmplitudeEmulator emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting(
                 FaultSecrets.API_KEY));
             CohortSyncService service = CohortSyncService.start(config(appId, prefix, registryScope, emulator))) {
            assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
            final Topics topics = service.topics();
            ExportOnBroker.awaitLeaders(kafka.admin(), List.of(topics.engagementEvents.name(),
                topics.amplitudeExport.name()));
            final AtomicInteger seq = new AtomicInteger();
            final List<Integer> produced = new ArrayList<>();

            try (KafkaProducer<String, EngagementEvent> producer = producer(topics)) {
                // Warm-up: the path works end to end and the exporter's group has committed everything.
                produced.addAll(produce(producer, topics, seq, WARM_UP_EVENTS));
                await().atMost(Duration.ofMinutes(1)).until(() -> emulator.stats().accepted() >= WARM_UP_EVENTS);
                await().atMost(Duration.ofSeconds(30)).until(() -> lag(exporterGroup, topics) == 0);
                final Map<TopicPartition, Long> committedBefore = ExportOnBroker.committed(kafka.admin(),
                    exporterGroup);
                final long acceptedBefore = emulator.stats().accepted();

                // The outage: every request answered 503 while events keep arriving.
                emulator.startOutage(503);
                final Instant outageStart = Instant.now();
                final List<Integer> duringOutage = java.util.Collections.synchronizedList(new ArrayList<>());
                ticker.scheduleAtFixedRate(() -> duringOutage.addAll(produce(producer, topics, seq, PER_TICK)),
                    0, TICK.toMillis(), TimeUnit.MILLISECONDS);
                final List<Long> lagSamples = java.util.Collections.synchronizedList(new ArrayList<>());
                await().during(OUTAGE).atMost(OUTAGE.plusSeconds(30)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> {
                        lagSamples.add(lag(exporterGroup, topics));
                        return emulator.stats().accepted() == acceptedBefore
                            && ExportOnBroker.committed(kafka.admin(), exporterGroup).equals(committedBefore);
                    });
                ticker.shutdown();
                assertThat(ticker.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
                final int outageEvents = duringOutage.size();
                // Every event of the outage went through the export sub-topology and waits on amplitude-export.
                await().atMost(Duration.ofSeconds(30)).until(() -> lag(exporterGroup, topics) >= outageEvents);
                assertThat(ExportOnBroker.committed(kafka.admin(), exporterGroup))
                    .as("the exporter commits nothing Amplitude has not accepted").isEqualTo(committedBefore);
                assertThat(lagSamples.get(lagSamples.size() - 1)).as("the backlog grows in Kafka")
                    .isGreaterThan(lagSamples.get(0));
                final Duration outage = Duration.between(outageStart, Instant.now());
                emulator.endOutage();
                // Every request of the outage, one in flight at its end included, was answered 503; none other was.
                final long outageRequests = emulator.stats().statuses().getOrDefault(503, 0L);
                final Instant recovery = Instant.now();
                produced.addAll(duringOutage);

                // Recovery: the backlog drains, and the events produced after it flow too.
                produced.addAll(produce(producer, topics, seq, WARM_UP_EVENTS));
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250))
                    .until(() -> emulator.stats().accepted() >= produced.size());
                final Duration drain = Duration.between(recovery, Instant.now());
                await().atMost(Duration.ofSeconds(30)).until(() -> lag(exporterGroup, topics) == 0);
                // Nothing more may arrive: no event is sent twice.
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                    .until(() -> emulator.stats().accepted() == produced.size());

                assertExactlyOnceWithTheSameInsertIds(emulator, produced);
                assertBoundedRetries(outage, outageRequests);
                assertThat(records(topics.deadLetters.name()))
                    .as("nothing is dead-lettered because Amplitude was down").isZero();
                assertThat(service.exporter().isRunning()).isTrue();
                assertThat(service.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
                assertQuietLog(exporterLog, outage);
                LOG.info("Amplitude outage of {} s: {} events produced during it ({} in all), {} requests answered "
                        + "503 during it, backlog drained {} ms after recovery, {} accepted, {} duplicates, "
                        + "{} dead letters", outage.toSeconds(), outageEvents, produced.size(), outageRequests,
                    drain.toMillis(), emulator.stats().accepted(), emulator.duplicates().size(), 0);
            }
        } finally {
            ticker.shutdownNow();
            ((Logger) LoggerFactory.getLogger(AmplitudeExporter.class)).detachAppender(exporterLog);
            MockSchemaRegistry.drop(registryScope);
        }
    }

    /**
     * Every produced event accepted once; none accepted twice; each event refused during the outage was later
     * accepted under the insert_id it carried then; each user's events in the order produced.
     */
    private static void assertExactlyOnceWithTheSameInsertIds(final AmplitudeEmulator emulator,
                                                              final List<Integer> produced) {
        final List<AmplitudeEmulator.Accepted> accepted = emulator.accepted();
        final List<Integer> acceptedSeqs = accepted.stream().map(AmplitudeOutageTest::seqOf).toList();
        assertThat(acceptedSeqs).as("every event accepted exactly once").hasSize(produced.size())
            .doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(produced);
        assertThat(emulator.duplicates()).as("no event reached Amplitude twice").isEmpty();
        final Map<Integer, String> insertIdBySeq = accepted.stream()
            .collect(Collectors.toMap(AmplitudeOutageTest::seqOf, AmplitudeEmulator.Accepted::insertId));
        assertThat(accepted.stream().map(AmplitudeEmulator.Accepted::insertId).distinct().count())
            .isEqualTo(produced.size());
        final List<AmplitudeEmulator.Accepted> refused = emulator.refused();
        assertThat(refused).as("events were sent (and refused) during the outage").isNotEmpty();
        for (final AmplitudeEmulator.Accepted attempt : refused) {
            assertThat(attempt.insertId()).as("insert_id of event %s, refused during the outage, then accepted",
                seqOf(attempt)).isEqualTo(insertIdBySeq.get(seqOf(attempt)));
        }
        ExportOnBroker.assertPerUserOrder(accepted);
    }

    /**
     * No hot loop: after the exponential ramp (initial backoff doubling to the max, halved at worst by jitter), each
     * round of at most {@link #MAX_IN_FLIGHT} requests waits at least half the max backoff.
     */
    private static void assertBoundedRetries(final Duration outage, final long outageRequests) {
        final long rampRounds = 64 - Long.numberOfLeadingZeros(RETRY_BACKOFF_MAX.toMillis() / RETRY_BACKOFF.toMillis())
            + 2;
        final long steadyRounds = outage.toMillis() / (RETRY_BACKOFF_MAX.toMillis() / 2) + 1;
        final long bound = MAX_IN_FLIGHT * (rampRounds + steadyRounds);
        assertThat(outageRequests).as("requests during a %s s outage (bound %s)", outage.toSeconds(), bound)
            .isGreaterThanOrEqualTo(outage.toMillis() / RETRY_BACKOFF_MAX.toMillis()).isLessThanOrEqualTo(bound);
    }

    /** The 503s are logged as warnings, at most one per 10 s; no errors, no stack traces. */
    private static void assertQuietLog(final ListAppender<ILoggingEvent> log, final Duration outage) {
        final List<ILoggingEvent> events = List.copyOf(log.list);
        final List<String> retries = events.stream().filter(e -> e.getLevel() == Level.WARN)
            .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("503")).toList();
        assertThat(retries).isNotEmpty().hasSizeLessThanOrEqualTo((int) (outage.toSeconds() / 10) + 2)
            .allSatisfy(m -> assertThat(m).contains("Service Unavailable", "retrying with backoff"));
        assertThat(events).noneMatch(e -> e.getLevel() == Level.ERROR || e.getThrowableProxy() != null);
    }

    private static CohortSyncConfig config(final String appId, final String prefix, final String registryScope,
                                           final AmplitudeEmulator emulator) throws java.io.IOException {
        final Map<String, String> settings = new HashMap<>();
        settings.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        settings.put("schema-registry.url", "mock://" + registryScope);
        settings.put("application-id", appId);
        settings.put("topic-prefix", prefix);
        settings.put("topics.replication-factor", "1");
        settings.put("state-dir", TestDirs.create("amp-outage").toString());
        settings.put("export.linger", "20ms");
        settings.put("export.max-in-flight-requests", String.valueOf(MAX_IN_FLIGHT));
        settings.put("export.retry-backoff", RETRY_BACKOFF.toMillis() + "ms");
        settings.put("export.retry-backoff-max", RETRY_BACKOFF_MAX.toSeconds() + "s");
        return CohortSyncConfig.of(settings, """
            accounts:
              %s:
                export:
                  api-key: %s
                  base-url: %s
                  endpoint: HTTP_V2
                  events: ALL
            """.formatted(ACCOUNT, FaultSecrets.API_KEY, emulator.baseUrl()));
    }

    private static KafkaProducer<String, EngagementEvent> producer(final Topics topics) {
        final Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return new KafkaProducer<>(config, new StringSerializer(), topics.engagementEvents.valueSerde().serializer());
    }

    /** {@code count} engagement events over {@link #USERS} users, each with the next sequence number; flushed. */
    private static List<Integer> produce(final KafkaProducer<String, EngagementEvent> producer, final Topics topics,
                                         final AtomicInteger seq, final int count) {
        final List<Integer> sent = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            final int n = seq.getAndIncrement();
            final String objectId = String.format("object-%04d", n % USERS);
            producer.send(new ProducerRecord<>(topics.engagementEvents.name(), ACCOUNT + "|" + objectId,
                EngagementEvent.newBuilder().setAccountId(ACCOUNT).setObjectId(objectId)
                    .setIdentity("identity-" + objectId).setDeviceId("device-" + objectId)
                    .setEventName(n % 2 == 0 ? "Notification Sent" : "Notification Clicked")
                    .setTimestamp(Instant.ofEpochMilli(ExportOnBroker.BASE_TIME + n))
                    .setProperties(Map.of("seq", String.valueOf(n), "Campaign", "outage-drill")).build()));
            sent.add(n);
        }
        producer.flush();
        return sent;
    }

    private static long lag(final String group, final Topics topics) throws Exception {
        return ConsumerLag.of(kafka.admin(), group, List.of(topics.amplitudeExport.name()));
    }

    /** Offsets written to a topic, over all its partitions (0: nothing was ever written). */
    private static long records(final String topic) throws Exception {
        final Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new HashMap<>();
        kafka.admin().describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic).partitions()
            .forEach(p -> latest.put(new TopicPartition(topic, p.partition()),
                org.apache.kafka.clients.admin.OffsetSpec.latest()));
        return kafka.admin().listOffsets(latest).all().get(10, TimeUnit.SECONDS).values().stream()
            .mapToLong(info -> info.offset()).sum();
    }

    private static int seqOf(final AmplitudeEmulator.Accepted event) {
        return Integer.parseInt(event.eventProperties().get("seq"));
    }

    private static ListAppender<ILoggingEvent> capture(final Class<?> type) {
        final ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(type)).addAppender(appender);
        return appender;
    }
}
