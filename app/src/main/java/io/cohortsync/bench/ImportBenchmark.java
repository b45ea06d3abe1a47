package io.cohortsync.bench;

import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.Profile;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.embedded.EmbeddedKafkaBroker;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.runtime.ConsumerLag;
import io.cohortsync.runtime.StreamsSettings;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.topology.Topics;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The import benchmark: cohort-sync's real topology against a trivial Kafka Streams "floor" on the same input, in
 * one JVM, on one in-process broker, with the same Streams settings. See BENCHMARKS.md for how to read the result.
 *
 * <ol>
 *   <li><b>Ours</b>: pre-load the existing profiles, start the real service and wait until it has indexed them
 *   (not measured); then send every request batch as fast as the producer can and time the Partner Sync events.</li>
 *   <li><b>Floor</b>: the same request bytes to a fresh topic; a Streams app decodes them and writes one small
 *   Avro record per member. Timed the same way.</li>
 * </ol>
 * Both are backlog measurements: all batches are sent up front, so latency includes queueing behind earlier
 * batches.
 */
public final class ImportBenchmark {

    /** Ours must reach at least this share of the floor's throughput. */
    public static final double TARGET_RATIO = 0.35;

    private static final String ACCOUNTS_YAML = "accounts:\n  bench:\n    import:\n      policy: CREATE_UNMATCHED\n";
    private static final String FLOOR_INPUT = "bench-floor.requests";
    private static final String FLOOR_OUTPUT = "bench-floor.events";
    private static final int LINGER_MS = 10;
    private static final int BATCH_BYTES = 256 * 1024;
    private static final Duration WARM_UP_TIMEOUT = Duration.ofMinutes(60);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(30);

    private ImportBenchmark() {
    }

    /** What to run. */
    public record Settings(int members, int batchSize, double newShare, int partitions, int cohorts,
                           int warmUpMembers, Duration stallTimeout, Map<String, String> extraConfig) {
        public Settings {
            if (warmUpMembers < 0) {
                throw new IllegalArgumentException("--warmup-members must be 0 or more, got " + warmUpMembers);
            }
            extraConfig = Map.copyOf(extraConfig);
            if (members < 1) {
                throw new IllegalArgumentException("--members must be at least 1, got " + members);
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
            }
            if (!(newShare >= 0.0 && newShare <= 1.0)) {
                throw new IllegalArgumentException("--new-share must be between 0 and 1, got " + newShare);
            }
            if (partitions < 1) {
                throw new IllegalArgumentException("--partitions must be at least 1, got " + partitions);
            }
            if (cohorts < 1) {
                throw new IllegalArgumentException("--cohorts must be at least 1, got " + cohorts);
            }
        }

        /** A generous upper bound for one measurement: 30 minutes plus 2 ms per member. */
        Duration hardTimeout() {
            return Duration.ofMinutes(30).plusMillis(2L * members);
        }
    }

    /** One measured run. Latencies are from a batch's send to its event being read by a read_committed consumer. */
    public record Measurement(String name, long events, long extraEvents, double seconds, double membersPerSecond,
                              double p50Ms, double p99Ms, double maxMs, double produceSeconds,
                              double firstEventSeconds, CpuSnapshot.Delta cpu, List<String> profile) {
    }

    /** Both runs. */
    public record Result(Settings settings, int batches, Measurement ours, Measurement floor, double warmUpSeconds) {
        public double ratio() {
            return floor.membersPerSecond() == 0 ? 0 : ours.membersPerSecond() / floor.membersPerSecond();
        }

        public boolean targetMet() {
            return ratio() >= TARGET_RATIO;
        }
    }

    /** Runs both measurements and prints progress and the result table to {@code out}. */
    public static Result run(final Settings settings, final PrintWriter out) throws Exception {
        quietLogs();
        final String runId = UUID.randomUUID().toString();
        final String scope = "bench-" + runId;
        final Path root = Files.createTempDirectory("cohort-sync-bench-");
        try {
            return run(settings, out, root, runId, scope);
        } finally {
            MockSchemaRegistry.drop(scope);
            deleteRecursively(root);
        }
    }

    private static Result run(final Settings settings, final PrintWriter out, final Path root, final String runId,
                              final String scope) throws Exception {
        final String oursAppId = "bench-import-" + runId;
        final String floorAppId = "bench-floor-" + runId;
        final BenchWorkload workload = new BenchWorkload(settings.members(), settings.batchSize(),
            settings.newShare(), settings.cohorts(), runId.substring(0, 8));
        out.printf(Locale.ROOT, "bench-import: %,d members in %,d batches of %,d over %d cohorts, %d partitions, "
                + "%.0f%% new identities (%,d existing profiles); data in %s%n", settings.members(),
            workload.batchCount(), settings.batchSize(), settings.cohorts(), settings.partitions(),
            settings.newShare() * 100, workload.existingMembers(), root);
        final CpuSnapshot idleStart = CpuSnapshot.take();
        Thread.sleep(2000);
        final double busyElsewhere = idleStart.until(CpuSnapshot.take(), List.of()).otherProcessesCores();
        out.printf(Locale.ROOT, "Other processes on this machine use %.2f of %d cores right now%s%n", busyElsewhere,
            Runtime.getRuntime().availableProcessors(), busyElsewhere > 0.3
                ? ": the figures will be lower and noisier than on an idle machine" : "");
        out.flush();

        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(root.resolve("kafka"), 0)) {
            final String bootstrap = broker.bootstrapServers();
            final CohortSyncConfig oursConfig = config(settings, bootstrap, scope, oursAppId, root.resolve("state-ours"));
            final CohortSyncConfig floorConfig = config(settings, bootstrap, scope, floorAppId,
                root.resolve("state-floor"));
            final Topics topics = Topics.create(oursConfig.topicPrefix(), oursConfig.serdeConfig());
            // Ours' topics are created by the service itself at start; the floor's here, allowing the same sizes.
            try (Admin admin = Admin.create(clientConfig(bootstrap))) {
                final Map<String, String> big = Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(16 << 20));
                admin.createTopics(List.of(new NewTopic(FLOOR_INPUT, settings.partitions(), (short) 1).configs(big),
                    new NewTopic(FLOOR_OUTPUT, settings.partitions(), (short) 1).configs(big)))
                    .all().get(30, TimeUnit.SECONDS);
            }

            long t0 = System.nanoTime();
            final List<BenchWorkload.Batch> batches = workload.batches(topics.requests.valueSerde().serializer(),
                topics.requests.name());
            final long requestBytes = batches.stream().mapToLong(b -> b.value().length).sum();
            out.printf(Locale.ROOT, "Serialized %,d requests (%,.1f MB, %,d bytes/member) in %.1f s%n", batches.size(),
                requestBytes / 1e6, requestBytes / settings.members(), seconds(t0));
            out.flush();
            final Phase measured = new Phase("", batches, workload.base(), settings.members());
            final Phase jitWarmUp;
            if (settings.warmUpMembers() > 0) {
                final BenchWorkload warm = BenchWorkload.warmUp(settings.warmUpMembers(), settings.batchSize(),
                    settings.newShare(), settings.cohorts(), runId.substring(0, 8));
                jitWarmUp = new Phase(" JIT warm-up", warm.batches(topics.requests.valueSerde().serializer(),
                    topics.requests.name()), warm.base(), warm.members());
            } else {
                jitWarmUp = null;
            }

            // 1. Ours.
            t0 = System.nanoTime();
            final Measurement ours;
            final double warmUp;
            try (CohortSyncService service = CohortSyncService.start(oursConfig)) {
                awaitPartitionsReady(bootstrap, List.of(topics.profiles.name(), topics.requests.name(),
                    topics.partnerSync.name(), FLOOR_INPUT, FLOOR_OUTPUT));
                preloadProfiles(bootstrap, topics, workload, requestBytes);
                out.printf(Locale.ROOT, "Started cohort-sync (%s) and pre-loaded %,d profiles in %.1f s; waiting until "
                    + "it has indexed them (not measured)...%n", oursAppId, workload.existingMembers(), seconds(t0));
                out.flush();
                awaitIndexed(bootstrap, oursAppId, topics);
                warmUp = seconds(t0);
                out.printf(Locale.ROOT, "Profiles indexed in %.1f s.%n", warmUp);
                out.flush();
                final Predicate<PartnerSyncEvent> added = event -> "Added".equals(event.getProperties().get("Action"));
                if (jitWarmUp != null) {
                    printWarmUp(out, measure("ours", jitWarmUp, bootstrap, topics.requests.name(),
                        topics.partnerSync.name(), topics.partnerSync.valueSerde().deserializer(), added, settings,
                        requestBytes, List.of(oursAppId, floorAppId),
                        new StreamThreadSampler(oursAppId, service.streams()::metrics), out));
                }
                out.println("Measuring ours...");
                out.flush();
                ours = measure("ours", measured, bootstrap, topics.requests.name(), topics.partnerSync.name(),
                    topics.partnerSync.valueSerde().deserializer(), added, settings, requestBytes,
                    List.of(oursAppId, floorAppId), new StreamThreadSampler(oursAppId, service.streams()::metrics), out);
                printMeasurement(out, ours);
                warnIfDeadLettered(out, bootstrap, topics.deadLetters.name());
            }

            // 2. Floor.
            final Topics floorTopics = Topics.create(floorConfig.topicPrefix(), floorConfig.serdeConfig());
            final Properties floorProps = StreamsSettings.of(floorConfig, bootstrap);
            final Topology floorTopology = FloorTopology.build(FLOOR_INPUT, FLOOR_OUTPUT,
                floorTopics.requests.valueSerde().deserializer(), floorTopics.partnerSync.valueSerde(), floorProps);
            final Measurement floor;
            try (KafkaStreams streams = new KafkaStreams(floorTopology, floorProps)) {
                streams.start();
                awaitRunning(streams);
                out.printf(Locale.ROOT, "Floor app (%s) running.%n", floorAppId);
                out.flush();
                if (jitWarmUp != null) {
                    printWarmUp(out, measure("floor", jitWarmUp, bootstrap, FLOOR_INPUT, FLOOR_OUTPUT,
                        floorTopics.partnerSync.valueSerde().deserializer(), event -> true, settings, requestBytes,
                        List.of(oursAppId, floorAppId), new StreamThreadSampler(floorAppId, streams::metrics), out));
                }
                out.println("Measuring the floor...");
                out.flush();
                floor = measure("floor", measured, bootstrap, FLOOR_INPUT, FLOOR_OUTPUT,
                    floorTopics.partnerSync.valueSerde().deserializer(), event -> true, settings, requestBytes,
                    List.of(oursAppId, floorAppId), new StreamThreadSampler(floorAppId, streams::metrics), out);
                printMeasurement(out, floor);
                streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(Duration.ofSeconds(30)));
            }

            final Result result = new Result(settings, batches.size(), ours, floor, warmUp);
            printTable(out, result, oursConfig);
            return result;
        }
    }

    private static CohortSyncConfig config(final Settings settings, final String bootstrap, final String scope,
                                           final String appId, final Path stateDir) {
        final Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("kafka.bootstrap-servers", bootstrap);
        overrides.put("schema-registry.url", "mock://" + scope);
        overrides.put("application-id", appId);
        overrides.put("state-dir", stateDir.toString());
        overrides.put("topology.partitions", String.valueOf(settings.partitions()));
        overrides.put("topics.replication-factor", "1");
        overrides.put("ingest.max-members-per-batch", String.valueOf(Math.max(10_000, settings.batchSize())));
        // Experiments only (--set): the same overrides for both apps.
        overrides.putAll(settings.extraConfig());
        return CohortSyncConfig.of(overrides, ACCOUNTS_YAML);
    }

    private static Map<String, Object> clientConfig(final String bootstrap) {
        final Map<String, Object> config = new HashMap<>();
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return config;
    }

    /** The one producer configuration of the benchmark, for profiles and for both measurements' requests. */
    private static Map<String, Object> producerConfig(final String bootstrap, final long requestBytes) {
        final Map<String, Object> config = clientConfig(bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, LINGER_MS);
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, BATCH_BYTES);
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 16 * 1024 * 1024);
        // Room for the whole backlog, so send() never blocks and the recorded send time is when the batch was sent.
        config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Math.max(64L << 20, 2 * requestBytes));
        return config;
    }

    private static void preloadProfiles(final String bootstrap, final Topics topics, final BenchWorkload workload,
                                        final long requestBytes) {
        final AtomicReference<Exception> error = new AtomicReference<>();
        try (KafkaProducer<String, Profile> producer = new KafkaProducer<>(producerConfig(bootstrap, requestBytes),
            new StringSerializer(), topics.profiles.valueSerde().serializer())) {
            workload.forEachProfile(profile -> producer.send(
                new ProducerRecord<>(topics.profiles.name(), BenchWorkload.profileKey(profile), profile),
                (metadata, e) -> {
                    if (e != null) {
                        error.compareAndSet(null, e);
                    }
                }));
            producer.flush();
        }
        if (error.get() != null) {
            throw new IllegalStateException("could not pre-load the profiles: " + error.get(), error.get());
        }
    }

    private static void awaitIndexed(final String bootstrap, final String appId, final Topics topics)
        throws InterruptedException {
        try (Admin admin = Admin.create(clientConfig(bootstrap))) {
            final List<String> indexTopics = List.of(topics.profiles.name(),
                appId + "-" + IdentityTopology.INDEX_UPDATES_TOPIC + "-repartition");
            if (!ConsumerLag.awaitCaughtUp(admin, appId, indexTopics, WARM_UP_TIMEOUT)) {
                throw new IllegalStateException("cohort-sync did not catch up on " + indexTopics + " within "
                    + WARM_UP_TIMEOUT.toMinutes() + " minutes");
            }
        }
    }

    /**
     * Waits until every partition of the topics answers a ListOffsets, i.e. its leader has really created the log.
     * A leader in the metadata is not enough: an idempotent producer whose first request reaches a partition the
     * broker has not created yet gets NOT_LEADER_OR_FOLLOWER, a later request is appended, and the first one then
     * spins on OUT_OF_ORDER_SEQUENCE_NUMBER until delivery.timeout.ms expires it (KAFKA-15591 / KAFKA-14359).
     */
    private static void awaitPartitionsReady(final String bootstrap, final List<String> topicNames)
        throws InterruptedException {
        final long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try (Admin admin = Admin.create(clientConfig(bootstrap))) {
            while (true) {
                try {
                    final Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
                    admin.describeTopics(topicNames).allTopicNames().get(30, TimeUnit.SECONDS).values()
                        .forEach(topic -> topic.partitions().forEach(p -> partitions.put(
                            new TopicPartition(topic.name(), p.partition()), OffsetSpec.latest())));
                    admin.listOffsets(partitions).all().get(30, TimeUnit.SECONDS);
                    return;
                } catch (final ExecutionException | TimeoutException e) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the partitions of " + topicNames + " are not ready after "
                            + START_TIMEOUT.toSeconds() + " s: " + e.getMessage(), e);
                    }
                }
                Thread.sleep(100);
            }
        }
    }

    private static void awaitRunning(final KafkaStreams streams) throws InterruptedException {
        final long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING) {
            if (System.nanoTime() > deadline || !streams.state().isRunningOrRebalancing()
                && streams.state() != KafkaStreams.State.CREATED) {
                throw new IllegalStateException("the floor app did not reach RUNNING: " + streams.state());
            }
            Thread.sleep(50);
        }
    }

    /** Sends every batch as fast as the producer takes them and waits for the expected events. */
    /** The batches of one phase (the measured one, or the JIT warm-up before it) and how to recognise its events. */
    private record Phase(String suffix, List<BenchWorkload.Batch> batches, long base, int members) {
    }

    private static Measurement measure(final String app, final Phase phase, final String bootstrap,
                                       final String inputTopic, final String outputTopic,
                                       final Deserializer<PartnerSyncEvent> deserializer,
                                       final Predicate<PartnerSyncEvent> counted, final Settings settings,
                                       final long requestBytes, final List<String> appIds,
                                       final StreamThreadSampler sampler, final PrintWriter out)
        throws InterruptedException {
        final String name = app + phase.suffix();
        final List<BenchWorkload.Batch> batches = phase.batches();
        final AtomicLongArray sendNanos = new AtomicLongArray(batches.size());
        final LatencyProbe probe = new LatencyProbe(clientConfig(bootstrap), outputTopic, deserializer, counted,
            phase.members(), phase.base(), sendNanos, settings.stallTimeout(), settings.hardTimeout());
        final Thread probeThread = new Thread(probe, "bench-latency-probe-" + app);
        probeThread.setDaemon(true);
        probeThread.start();
        probe.awaitReady();

        final Thread samplerThread = new Thread(sampler, "bench-sampler-" + app);
        samplerThread.setDaemon(true);
        samplerThread.start();
        final CpuSnapshot before = CpuSnapshot.take();
        final AtomicReference<Exception> sendError = new AtomicReference<>();
        final AtomicLong lastAck = new AtomicLong();
        final long firstSend = System.nanoTime();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig(bootstrap, requestBytes),
            new StringSerializer(), new ByteArraySerializer())) {
            for (final BenchWorkload.Batch batch : batches) {
                sendNanos.set(batch.index(), System.nanoTime());
                producer.send(new ProducerRecord<>(inputTopic, batch.key(), batch.value()), (metadata, e) -> {
                    if (e != null) {
                        sendError.compareAndSet(null, e);
                    }
                    lastAck.accumulateAndGet(System.nanoTime(), Math::max);
                });
            }
            producer.flush();
        } catch (final RuntimeException e) {
            probe.stop();
            sampler.stop();
            throw e;
        }
        if (sendError.get() != null) {
            probe.stop();
            sampler.stop();
            throw new IllegalStateException(name + ": could not send the requests: " + sendError.get(),
                sendError.get());
        }
        try {
            long reported = 0;
            while (!probe.awaitComplete(PROGRESS_INTERVAL)) {
                final long count = probe.count();
                out.printf(Locale.ROOT, "    %s: %,d of %,d events after %.0f s (%,.0f/s over the last %d s)%n", name,
                    count, phase.members(), seconds(firstSend), (count - reported) / (double) PROGRESS_INTERVAL
                        .toSeconds(), PROGRESS_INTERVAL.toSeconds());
                out.flush();
                reported = count;
            }
        } catch (final RuntimeException e) {
            out.printf(Locale.ROOT, "  %s FAILED: %s%n  What the stream thread was doing until then:%n", name,
                e.getMessage());
            sampler.report(12).forEach(line -> out.println("  " + name + " " + line));
            sampler.currentStacks(40).forEach(line -> out.println("  " + line));
            out.flush();
            throw e;
        } finally {
            sampler.stop();
        }
        final CpuSnapshot after = CpuSnapshot.take();
        samplerThread.join(1000);
        probe.awaitDone();

        final long[] latencies = probe.sortedLatencies();
        final double elapsed = (probe.lastEventNanos() - firstSend) / 1e9;
        return new Measurement(name, probe.count(), probe.extra(), elapsed, probe.count() / elapsed,
            LatencyProbe.percentile(latencies, 0.50) / 1e6, LatencyProbe.percentile(latencies, 0.99) / 1e6,
            LatencyProbe.percentile(latencies, 1.0) / 1e6, (lastAck.get() - firstSend) / 1e9,
            (probe.firstEventNanos() - firstSend) / 1e9, before.until(after, appIds), sampler.report(12));
    }

    private static void warnIfDeadLettered(final PrintWriter out, final String bootstrap, final String dlqTopic)
        throws InterruptedException, ExecutionException, TimeoutException {
        try (Admin admin = Admin.create(clientConfig(bootstrap))) {
            final Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            admin.describeTopics(List.of(dlqTopic)).allTopicNames().get(30, TimeUnit.SECONDS).get(dlqTopic)
                .partitions().forEach(p -> latest.put(new TopicPartition(dlqTopic, p.partition()), OffsetSpec.latest()));
            final long records = admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .all().get(30, TimeUnit.SECONDS).values().stream().mapToLong(info -> info.offset()).sum();
            if (records > 0) {
                out.printf(Locale.ROOT, "WARNING: the dead-letter topic %s is not empty (end offsets sum %,d)%n",
                    dlqTopic, records);
            }
        }
    }

    private static void printWarmUp(final PrintWriter out, final Measurement m) {
        out.printf(Locale.ROOT, "  %s (not counted): %,d members in %.1f s = %,.0f members/s%n", m.name(), m.events(),
            m.seconds(), m.membersPerSecond());
        out.flush();
    }

    private static void printMeasurement(final PrintWriter out, final Measurement m) {
        out.printf(Locale.ROOT, "  %s: %,d events in %.1f s = %,.0f members/s; latency p50 %,.0f ms, p99 %,.0f ms, "
                + "max %,.0f ms; all batches acked after %.2f s; first event after %.2f s%s%n", m.name(), m.events(),
            m.seconds(), m.membersPerSecond(), m.p50Ms(), m.p99Ms(), m.maxMs(), m.produceSeconds(),
            m.firstEventSeconds(), m.extraEvents() > 0 ? "; " + m.extraEvents() + " EXTRA events (duplicates?)" : "");
        final CpuSnapshot.Delta cpu = m.cpu();
        out.printf(Locale.ROOT, "  %s CPU: %.1f s process CPU in %.1f s (%.2f of %d cores busy; other processes on the "
                + "machine used %.2f cores meanwhile); GC %d collections, %.1f s; top thread groups:%n", m.name(),
            cpu.processCpuSeconds(), cpu.wallSeconds(), cpu.coresBusy(), Runtime.getRuntime().availableProcessors(),
            cpu.otherProcessesCores(), cpu.gcCount(), cpu.gcSeconds());
        cpu.groups().stream().limit(12).forEach(group -> out.printf(Locale.ROOT, "      %7.1f s  %5.1f%%  %s%n",
            group.getValue(), 100 * group.getValue() / Math.max(1e-9, cpu.processCpuSeconds()), group.getKey()));
        m.profile().forEach(line -> out.println("  " + m.name() + " " + line));
        out.flush();
    }

    private static void printTable(final PrintWriter out, final Result r, final CohortSyncConfig config) {
        final Settings s = r.settings();
        out.println();
        out.println("=== bench-import result ===");
        out.printf(Locale.ROOT, "members %,d | batches %,d x %,d | cohorts %d | partitions %d | new identities %.0f%% "
                + "| existing profiles %,d%n", s.members(), r.batches(), s.batchSize(), s.cohorts(), s.partitions(),
            s.newShare() * 100, Math.round((1 - s.newShare()) * s.members()));
        out.printf(Locale.ROOT, "both apps: %s, commit interval %d ms, %d stream thread(s); request producer: acks=all, "
                + "idempotent, linger %d ms, lz4, batch.size %d KiB; all batches sent up front (backlog); JIT warm-up before each "
                + "measurement: %,d members%n",
            config.processingGuarantee(), config.commitInterval().toMillis(), config.streamThreads(), LINGER_MS,
            BATCH_BYTES / 1024, s.warmUpMembers());
        out.println(jvmInfo());
        if (!s.extraConfig().isEmpty()) {
            out.println("EXPERIMENT: settings overridden for both apps: " + s.extraConfig());
        }
        out.printf(Locale.ROOT, "other processes on the machine used %.2f cores during ours, %.2f during the floor%n",
            r.ours().cpu().otherProcessesCores(), r.floor().cpu().otherProcessesCores());
        out.println();
        out.printf(Locale.ROOT, "%-28s %12s %10s %10s %10s %10s%n", "", "members/s", "p50 ms", "p99 ms", "max ms",
            "total s");
        for (final Measurement m : List.of(r.ours(), r.floor())) {
            out.printf(Locale.ROOT, "%-28s %,12.0f %,10.0f %,10.0f %,10.0f %10.1f%n",
                m.name().equals("ours") ? "ours (cohort-sync topology)" : "floor (decode+flatMap)",
                m.membersPerSecond(), m.p50Ms(), m.p99Ms(), m.maxMs(), m.seconds());
        }
        out.printf(Locale.ROOT, "ratio ours/floor throughput: %.3f  (target >= %.2f: %s)%n", r.ratio(), TARGET_RATIO,
            r.targetMet() ? "MET" : "MISSED");
        out.flush();
    }

    static String jvmInfo() {
        final String gcs = ManagementFactory.getGarbageCollectorMXBeans().stream()
            .map(GarbageCollectorMXBean::getName).collect(Collectors.joining(", "));
        long machineBytes = 0;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            machineBytes = os.getTotalMemorySize();
        }
        return String.format(Locale.ROOT, "JVM: %s %s (%s), %d cores available, max heap %.1f GiB, machine memory "
                + "%.1f GiB, GC: %s; OS: %s %s %s", System.getProperty("java.vm.name"),
            System.getProperty("java.runtime.version", System.getProperty("java.version")),
            System.getProperty("java.vendor"), Runtime.getRuntime().availableProcessors(),
            Runtime.getRuntime().maxMemory() / (double) (1L << 30), machineBytes / (double) (1L << 30), gcs,
            System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("os.arch"));
    }

    /** One INFO line per finished batch is useful in service logs, noise in a benchmark. */
    private static void quietLogs() {
        for (final String name : List.of("io.cohortsync.SyncReports", "org.apache.kafka", "kafka")) {
            if (LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger logger) {
                logger.setLevel(ch.qos.logback.classic.Level.WARN);
            }
        }
    }

    private static double seconds(final long fromNanos) {
        return (System.nanoTime() - fromNanos) / 1e9;
    }

    private static void deleteRecursively(final Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            final List<Path> all = new ArrayList<>(paths.sorted(Comparator.reverseOrder()).toList());
            for (final Path path : all) {
                Files.deleteIfExists(path);
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("could not delete the benchmark's data in " + root, e);
        }
    }
}
