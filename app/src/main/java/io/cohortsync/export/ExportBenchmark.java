package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.embedded.EmbeddedKafkaBroker;
import io.cohortsync.export.emulator.AmplitudeEmulator;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.topology.Topics;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The export benchmark ({@code cohort-sync bench-export}; BENCHMARKS.md "Export"): a backlog of events on the export
 * topic of an in-process broker, drained (1) by a plain consumer that only reads the records, the floor, and (2) by
 * the real {@link AmplitudeExporter} into the {@link AmplitudeEmulator} on loopback. Prints events/s, requests/s and
 * how full the requests were against Amplitude's 2000-event / 1 MB limits.
 */
public final class ExportBenchmark {

    /** Mean request fill the exporter must reach under backlog. */
    public static final double TARGET_FILL = 0.95;

    private static final String API_KEY = "bench-api-key";
    private static final String ACCOUNT = "bench";

    private ExportBenchmark() {
    }

    /** What to run. */
    public record Settings(int events, int users, int partitions, int maxInFlight, Endpoint endpoint,
                           int paddingChars, Duration timeout) {
        public Settings {
            if (events < 1 || users < 1 || partitions < 1 || maxInFlight < 1) {
                throw new IllegalArgumentException("--events, --users, --partitions and --max-in-flight must be >= 1");
            }
            if (paddingChars < 0 || paddingChars > 1000) {
                throw new IllegalArgumentException("--padding must be between 0 and 1000");
            }
        }
    }

    /** One drain of the backlog. */
    public record Measurement(String name, long events, double seconds, long requests, double meanFill,
                              double meanEventsPerRequest, double meanBytesPerRequest) {
        public double eventsPerSecond() {
            return seconds == 0 ? 0 : events / seconds;
        }

        public double requestsPerSecond() {
            return seconds == 0 ? 0 : requests / seconds;
        }
    }

    /** Both drains. */
    public record Result(Settings settings, long eventJsonBytes, Measurement floor, Measurement exporter) {
        public boolean targetMet() {
            return exporter.meanFill() >= TARGET_FILL;
        }
    }

    public static Result run(final Settings settings, final PrintWriter out) throws Exception {
        quietLogs();
        final String runId = UUID.randomUUID().toString().substring(0, 8);
        final String scope = "bench-export-" + runId;
        final Path root = Files.createTempDirectory("cohort-sync-bench-export-");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(root.resolve("kafka"), 0)) {
            final Topics topics = Topics.create("bench-export-" + runId + ".",
                Map.of("schema.registry.url", "mock://" + scope));
            createTopics(broker.bootstrapServers(), topics, settings.partitions());
            final long jsonBytes = produceBacklog(broker.bootstrapServers(), topics, settings, out);
            final Measurement floor = floor(broker.bootstrapServers(), topics, settings);
            out.printf(Locale.ROOT, "Floor: a plain consumer read %,d records in %.1f s%n", floor.events(),
                floor.seconds());
            out.flush();
            final Measurement exporter = exporter(broker.bootstrapServers(), topics, settings, root, out);
            final Result result = new Result(settings, jsonBytes, floor, exporter);
            print(result, out);
            return result;
        } finally {
            MockSchemaRegistry.drop(scope);
            deleteRecursively(root);
        }
    }

    /** Realistic engagement events: the seed's Partner Sync properties plus campaign details, about 420 bytes each. */
    static AmplitudeEvent event(final int index, final int users, final int paddingChars) {
        final int user = index % users;
        final int seq = index / users;
        final Map<String, String> properties = new LinkedHashMap<>();
        properties.put("Campaign ID", "1700000" + (index % 97));
        properties.put("Campaign Name", "Spring sale reminder " + (index % 13));
        properties.put("Campaign Type", "Mobile Push - Android");
        properties.put("Variant", "A");
        properties.put("CT Source", "Amplitude");
        properties.put("seq", String.valueOf(seq));
        if (paddingChars > 0) {
            properties.put("Message", "x".repeat(paddingChars));
        }
        return AmplitudeEvent.newBuilder()
            .setAccountId(ACCOUNT)
            .setEventType(seq % 3 == 0 ? "Notification Sent" : seq % 3 == 1 ? "Notification Viewed"
                : "Notification Clicked")
            .setUserId(String.format("bench-user-%08d", user))
            .setDeviceId(String.format("__g%029d", user))
            .setTime(1_700_000_000_000L + index)
            .setInsertId(UUID.nameUUIDFromBytes(("bench|" + index).getBytes(StandardCharsets.UTF_8)).toString())
            .setEventProperties(properties)
            .setUserProperties(Map.of())
            .build();
    }

    private static void createTopics(final String bootstrap, final Topics topics, final int partitions)
        throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topics.amplitudeExport.name(), partitions, (short) 1),
                new NewTopic(topics.deadLetters.name(), 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline && !leadersElected(admin, topics)) {
                Thread.sleep(100);
            }
        }
    }

    private static boolean leadersElected(final Admin admin, final Topics topics) throws Exception {
        return admin.describeTopics(List.of(topics.amplitudeExport.name(), topics.deadLetters.name()))
            .allTopicNames().get(10, TimeUnit.SECONDS).values().stream()
            .allMatch(topic -> topic.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
    }

    /** Produces the backlog (not measured); returns the mean JSON size of one event. */
    private static long produceBacklog(final String bootstrap, final Topics topics, final Settings settings,
                                       final PrintWriter out) {
        final long start = System.nanoTime();
        final Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        final Serializer<AmplitudeEvent> serializer = topics.amplitudeExport.valueSerde().serializer();
        long jsonBytes = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(),
            new ByteArraySerializer())) {
            for (int i = 0; i < settings.events(); i++) {
                final AmplitudeEvent event = event(i, settings.users(), settings.paddingChars());
                if (i < 1000) {
                    jsonBytes += EventJson.of(event).length;
                }
                producer.send(new ProducerRecord<>(topics.amplitudeExport.name(),
                    ExportMapper.key(event).getBytes(StandardCharsets.UTF_8),
                    serializer.serialize(topics.amplitudeExport.name(), event)));
            }
            producer.flush();
        }
        final long meanJson = jsonBytes / Math.min(1000, settings.events());
        out.printf(Locale.ROOT, "bench-export: produced a backlog of %,d events (%,d users, %d partitions, ~%d JSON "
                + "bytes per event) in %.1f s%n", settings.events(), settings.users(), settings.partitions(), meanJson,
            seconds(start));
        out.flush();
        return meanJson;
    }

    /** The floor: a plain read_committed consumer that reads every record and does nothing with it. */
    private static Measurement floor(final String bootstrap, final Topics topics, final Settings settings) {
        final Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        long read = 0;
        final long start = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
            final List<TopicPartition> partitions = consumer.partitionsFor(topics.amplitudeExport.name()).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            final long deadline = System.nanoTime() + settings.timeout().toNanos();
            while (read < settings.events() && System.nanoTime() < deadline) {
                read += consumer.poll(Duration.ofMillis(100)).count();
            }
        }
        return new Measurement("floor (plain consumer)", read, seconds(start), 0, 0, 0, 0);
    }

    private static Measurement exporter(final String bootstrap, final Topics topics, final Settings settings,
                                        final Path root, final PrintWriter out) throws Exception {
        final AmplitudeEmulator.Options options = AmplitudeEmulator.Options.accepting(API_KEY).withoutRecording();
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (AmplitudeEmulator emulator = AmplitudeEmulator.start(options)) {
            final ExportSettings export = new ExportSettings(Secret.of(API_KEY), Residency.STANDARD,
                emulator.baseUrl(), null, null, settings.endpoint(), EventSelection.ALL, null, 5);
            final ExporterSettings exporterSettings = new ExporterSettings("bench-exporter", Duration.ofMillis(100),
                settings.maxInFlight(), 50_000, 0, Duration.ofSeconds(30), Duration.ofMillis(200),
                Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofHours(1), Duration.ofSeconds(1),
                root.resolve("dry-run.ndjson"), Duration.ofSeconds(10),
                Integer.parseInt(io.cohortsync.config.CohortSyncConfig.defaults().get("ingest.max-record-bytes")));
            final long start = System.nanoTime();
            final AmplitudeExporter exporter = AmplitudeExporter.start(exporterSettings, Map.of(ACCOUNT, export),
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), topics, registry);
            try {
                awaitAccepted(emulator, settings, out, start);
            } finally {
                exporter.close();
            }
            final double elapsed = seconds(start);
            final AmplitudeEmulator.Stats stats = emulator.stats();
            final DistributionSummary fill = registry.get(ExportMetrics.BATCH_FILL).summary();
            awaitCommitted(bootstrap, topics, settings);
            return new Measurement("cohort-sync exporter -> emulator", stats.accepted(), elapsed,
                stats.acceptedRequests(), fill.mean(),
                (double) stats.acceptedRequestEvents() / Math.max(1, stats.acceptedRequests()),
                (double) stats.acceptedRequestBytes() / Math.max(1, stats.acceptedRequests()));
        }
    }

    private static void awaitAccepted(final AmplitudeEmulator emulator, final Settings settings,
                                      final PrintWriter out, final long start) throws InterruptedException {
        final long deadline = System.nanoTime() + settings.timeout().toNanos();
        long lastReport = System.nanoTime();
        while (emulator.stats().accepted() < settings.events()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the exporter delivered " + emulator.stats().accepted() + " of "
                    + settings.events() + " events within " + settings.timeout());
            }
            if (System.nanoTime() - lastReport > Duration.ofSeconds(10).toNanos()) {
                out.printf(Locale.ROOT, "  ... %,d events accepted after %.0f s%n", emulator.stats().accepted(),
                    seconds(start));
                out.flush();
                lastReport = System.nanoTime();
            }
            Thread.sleep(20);
        }
    }

    /** Sanity check, not measured: the exporter committed every offset once Amplitude had everything. */
    private static void awaitCommitted(final String bootstrap, final Topics topics, final Settings settings)
        throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            final Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("bench-exporter")
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            final long committed = offsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
            if (committed != settings.events()) {
                throw new IllegalStateException("the exporter committed " + committed + " of " + settings.events()
                    + " offsets");
            }
        }
    }

    private static void print(final Result result, final PrintWriter out) {
        final Settings s = result.settings();
        final Endpoint endpoint = s.endpoint();
        out.println();
        out.printf(Locale.ROOT, "Export benchmark: %,d events, %,d users, %d partitions, %s, %d requests in flight, "
            + "~%d JSON bytes/event%n", s.events(), s.users(), s.partitions(), endpoint, s.maxInFlight(),
            result.eventJsonBytes());
        out.printf(Locale.ROOT, "%-34s %12s %10s %12s %12s %14s %10s%n", "", "events/s", "seconds", "requests/s",
            "events/req", "bytes/req", "fill");
        row(out, result.floor(), endpoint, false);
        row(out, result.exporter(), endpoint, true);
        out.printf(Locale.ROOT, "Exporter at %.0f%% of the floor's rate. Mean batch fill %.1f%% of the %d-event / "
                + "%,d-byte limit (target >= %.0f%%): %s%n", 100 * result.exporter().eventsPerSecond()
                / Math.max(1, result.floor().eventsPerSecond()), 100 * result.exporter().meanFill(),
            endpoint.maxEvents(), endpoint.maxBytes(), 100 * TARGET_FILL, result.targetMet() ? "MET" : "NOT MET");
        out.flush();
    }

    private static void row(final PrintWriter out, final Measurement m, final Endpoint endpoint,
                            final boolean requests) {
        out.printf(Locale.ROOT, "%-34s %,12.0f %10.1f %12s %12s %14s %10s%n", m.name(), m.eventsPerSecond(),
            m.seconds(), requests ? String.format(Locale.ROOT, "%,.1f", m.requestsPerSecond()) : "-",
            requests ? String.format(Locale.ROOT, "%,.0f", m.meanEventsPerRequest()) : "-",
            requests ? String.format(Locale.ROOT, "%,.0f", m.meanBytesPerRequest()) : "-",
            requests ? String.format(Locale.ROOT, "%.1f%%", 100 * m.meanFill()) : "-");
    }

    private static double seconds(final long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static void quietLogs() {
        final org.slf4j.Logger kafka = LoggerFactory.getLogger("org.apache.kafka");
        if (kafka instanceof ch.qos.logback.classic.Logger logback) {
            logback.setLevel(ch.qos.logback.classic.Level.ERROR);
        }
    }

    private static void deleteRecursively(final Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
