package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.config.AccountSettings;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.deadletter.InputDecoder;
import io.cohortsync.runtime.TopicBootstrapper;
import io.cohortsync.topology.Topics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Consumes {@code cohort-sync.amplitude-export} (one consumer group, read_committed) and posts the events to
 * Amplitude, per account, honouring its contract (ARCHITECTURE section 6; README "Export to Amplitude"):
 * <ul>
 *   <li>requests of at most 2000 events and 1 MB (20 MB on /batch), filled when there is a backlog, sent after a
 *   short linger when there is none; up to {@code export.max-in-flight-requests} per account;</li>
 *   <li>per-user order: a user's events are in at most one request at a time, in offset order;</li>
 *   <li>an offset is committed only when every record before it was accepted or dead-lettered;</li>
 *   <li>413 halves the request; 400 dead-letters the listed events and resends the rest; 429 makes only the
 *   throttled users and devices wait; 5xx and timeouts back off with jitter and retry forever; after a 403
 *   (firewall) or a 400 that names no event, the request's events go again only among themselves, in halves, until
 *   the refused event is alone and is dead-lettered; 401 or an invalid key stops that account only, its offsets
 *   staying put, and so do many events in a row refused alone.</li>
 * </ul>
 *
 * <p>One thread owns all state: it polls Kafka, builds and sends requests, and applies the answers, which the HTTP
 * client hands back through a queue. The consumer keeps polling, so it stays in its group however long Amplitude
 * takes. When {@code export.max-buffered-events} are waiting, only the partitions holding more than their share of
 * them pause: a partition whose users are throttled (or whose account is slow) no longer holds back the others.
 *
 * <p>This class runs the loop and owns the clients; the loop thread's state is kept by package-private parts, all
 * called on that thread: {@link RecordIntake} (reading records into the accounts' queues), {@link AnswerPolicy}
 * (applying Amplitude's answers), {@link DeadLetterWriter} (writing dead letters, and retrying them),
 * {@link PartitionOffsets} (partition progress and commits), {@link Backpressure} (the read-ahead budget and the
 * paused partitions) and {@link AccountExport} (one account's queues, requests and limits).
 */
public final class AmplitudeExporter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AmplitudeExporter.class);
    private static final Duration IDLE_POLL = Duration.ofMillis(100);
    private static final Duration BUSY_POLL = Duration.ofMillis(5);
    private static final long PAUSED_WAIT_MS = 50;
    private static final long GAUGE_INTERVAL_NANOS = Duration.ofSeconds(1).toNanos();
    private static final long SWEEP_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();

    /** Makes the exporter's Kafka clients from their configuration: Kafka's own, or a unit test's fakes. */
    interface Clients {
        Consumer<byte[], byte[]> consumer(Map<String, Object> config);

        Producer<byte[], DeadLetter> producer(Map<String, Object> config, Serializer<DeadLetter> values);
    }

    private static final Clients KAFKA_CLIENTS = new Clients() {
        @Override
        public Consumer<byte[], byte[]> consumer(final Map<String, Object> config) {
            return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }

        @Override
        public Producer<byte[], DeadLetter> producer(final Map<String, Object> config,
                                                     final Serializer<DeadLetter> values) {
            return new KafkaProducer<>(config, new ByteArraySerializer(), values);
        }
    };

    private final ExporterSettings settings;
    private final String exportTopic;
    private final Map<String, AccountExport> accounts = new LinkedHashMap<>();
    private final AmplitudeClient http;
    private final DryRunFile dryRun;
    private final Consumer<byte[], byte[]> consumer;
    /** Where the HTTP client and the producer hand their outcomes back to the loop thread. */
    private final BlockingQueue<Runnable> completions = new LinkedBlockingQueue<>();
    private final WarningThrottle warnings = new WarningThrottle();
    private final PartitionOffsets offsets;
    private final Backpressure backpressure;
    private final DeadLetterWriter deadLetters;
    private final AnswerPolicy answers;
    private final RecordIntake intake;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private long lastGauges = System.nanoTime();
    private long lastSweep = System.nanoTime();

    private AmplitudeExporter(final ExporterSettings settings, final Map<String, ExportSettings> exports,
                              final Map<String, Object> kafkaConfig, final Topics topics,
                              final MeterRegistry registry, final Clients clients) {
        this.settings = settings;
        this.exportTopic = topics.amplitudeExport.name();
        final InputDecoder<AmplitudeEvent> decoder = new InputDecoder<>(
            topics.amplitudeExport.valueSerde().deserializer(), settings.maxRecordBytes());
        this.http = new AmplitudeClient(settings.requestTimeout());
        this.dryRun = exports.values().stream().anyMatch(ExportSettings::dryRun)
            ? DryRunFile.open(settings.dryRunFile()) : null;
        exports.forEach((accountId, export) -> accounts.put(accountId, new AccountExport(accountId, export, settings,
            export.dryRun() ? dryRun.forAccount(accountId) : http, new ExportMetrics(registry, accountId))));
        this.consumer = clients.consumer(consumerConfig(kafkaConfig, settings.groupId()));
        this.offsets = new PartitionOffsets(consumer, settings.commitInterval());
        this.backpressure = new Backpressure(settings.maxBufferedEvents(), consumer, offsets.assigned());
        final Producer<byte[], DeadLetter> producer = deadLetterProducer(clients, kafkaConfig, topics);
        final Map<String, AccountExport> accountsById = Collections.unmodifiableMap(accounts);
        this.deadLetters = new DeadLetterWriter(producer, topics.deadLetters.name(), settings, completions,
            accountsById, backpressure, warnings);
        this.answers = new AnswerPolicy(settings, accountsById, backpressure, deadLetters, warnings);
        this.intake = new RecordIntake(decoder, consumer, offsets, accountsById, backpressure, deadLetters, warnings);
        this.thread = new Thread(this::run, "amplitude-exporter");
        this.thread.setDaemon(true);
        Gauge.builder("cohort.sync.export.running", this, e -> e.isRunning() ? 1 : 0)
            .description("1 while the Amplitude exporter's loop runs; 0 after a stop or a failure (see the log)")
            .register(registry);
        Gauge.builder("cohort.sync.export.paused.partitions", this, e -> e.backpressure.pausedPartitions())
            .description("Export partitions not read because they hold their share of export.max-buffered-events")
            .register(registry);
    }

    /**
     * Starts the exporter for every account with an {@code export} section, or returns null when none has one.
     * {@code kafkaConfig} holds the bootstrap servers and any client settings to pass through.
     */
    public static AmplitudeExporter start(final ExporterSettings settings, final Map<String, ExportSettings> exports,
                                          final Map<String, Object> kafkaConfig, final Topics topics,
                                          final MeterRegistry registry) {
        return start(settings, exports, kafkaConfig, topics, registry, KAFKA_CLIENTS);
    }

    /** As {@link #start(ExporterSettings, Map, Map, Topics, MeterRegistry)}, with the clients {@code clients} makes. */
    static AmplitudeExporter start(final ExporterSettings settings, final Map<String, ExportSettings> exports,
                                   final Map<String, Object> kafkaConfig, final Topics topics,
                                   final MeterRegistry registry, final Clients clients) {
        if (exports.isEmpty()) {
            LOG.info("No account has an export section: the Amplitude exporter is not started");
            return null;
        }
        final AmplitudeExporter exporter = new AmplitudeExporter(settings, exports, kafkaConfig, topics, registry,
            clients);
        exporter.describe();
        exporter.thread.start();
        return exporter;
    }

    /** Starts the exporter from the service's configuration (null when export is disabled or no account exports). */
    public static AmplitudeExporter start(final CohortSyncConfig config, final String bootstrapServers,
                                          final Topics topics, final MeterRegistry registry) {
        if (!config.exportEnabled()) {
            LOG.info("export.enabled is false: the Amplitude exporter is not started");
            return null;
        }
        final Map<String, ExportSettings> exports = exportsOf(config.accounts().values());
        final Map<String, Object> kafka = new HashMap<>(config.kafkaPassThrough());
        kafka.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return start(ExporterSettings.from(config), exports, kafka, topics, registry);
    }

    /** Accounts of a config that export, by id. */
    public static Map<String, ExportSettings> exportsOf(final Collection<AccountSettings> accounts) {
        final Map<String, ExportSettings> exports = new LinkedHashMap<>();
        accounts.forEach(account -> account.exportSettings().ifPresent(e -> exports.put(account.accountId(), e)));
        return exports;
    }

    private void describe() {
        accounts.values().forEach(account -> {
            if (account.settings.dryRun()) {
                LOG.info("Amplitude export of account '{}' is a DRY RUN (no api-key): the request bodies it would send "
                    + "to {} are written to {}", account.accountId, account.url, dryRun.file());
            } else {
                LOG.info("Amplitude export of account '{}': {} ({} events, user_id <- {}, device_id <- {}, api-key {})",
                    account.accountId, account.url, account.settings.events(), account.settings.userId(),
                    account.settings.deviceId(), account.settings.apiKey());
            }
        });
        LOG.info("Amplitude exporter consuming {} as group {}", exportTopic, settings.groupId());
    }

    private static Map<String, Object> consumerConfig(final Map<String, Object> kafka, final String groupId) {
        final Map<String, Object> config = new HashMap<>(kafka);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        return config;
    }

    private static Map<String, Object> producerConfig(final Map<String, Object> kafka, final int maxRecordBytes) {
        final Map<String, Object> config = new HashMap<>(kafka);
        config.keySet().removeIf(key -> ConsumerConfig.configNames().contains(key)
            && !ProducerConfig.configNames().contains(key));
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        // A dead letter wraps the whole record. With the client's 1 MiB default, the letter of an event too large
        // for Amplitude's 1 MB request could never be written, and the exporter would retry it forever.
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TopicBootstrapper.maxMessageBytes(maxRecordBytes));
        return config;
    }

    /** The dead-letter producer; the consumer, already made, is closed if it cannot be (nothing else would). */
    private Producer<byte[], DeadLetter> deadLetterProducer(final Clients clients,
                                                            final Map<String, Object> kafkaConfig,
                                                            final Topics topics) {
        try {
            return clients.producer(producerConfig(kafkaConfig, settings.maxRecordBytes()),
                topics.deadLetters.valueSerde().serializer());
        } catch (final RuntimeException e) {
            consumer.close(CloseOptions.timeout(Duration.ZERO));
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------------------- the loop

    private void run() {
        try {
            consumer.subscribe(List.of(exportTopic), new Rebalance());
            while (running && !offsets.halted()) {
                final ConsumerRecords<byte[], byte[]> records = consumer.poll(pollTimeout(System.nanoTime()));
                if (offsets.halted()) {
                    return;
                }
                intake.ingestAll(records, System.nanoTime());
                runCompletions(backpressure.allPaused() ? waitMillis(System.nanoTime()) : 0);
                if (offsets.halted()) {
                    return;
                }
                dispatch(System.nanoTime());
                backpressure.apply();
                maintain(System.nanoTime());
            }
            if (offsets.halted()) {
                // A halt that lands between the last check and the loop's condition must not commit either.
                return;
            }
            finishInFlight();
            offsets.commitAllSync();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            if (running && !offsets.halted()) {
                failure = e;
                LOG.error("The Amplitude exporter was interrupted and stopped; uncommitted events are sent again after "
                    + "a restart");
            }
        } catch (final RuntimeException | Error e) {
            failure = e;
            LOG.error("The Amplitude exporter failed and stopped; uncommitted events are sent again after a restart. "
                + "Cause: {}", e.toString(), e);
        } finally {
            closeClients();
        }
    }

    /**
     * How long the next poll may block: not at all when every partition is paused (the loop waits on answers
     * instead), briefly while anything is in flight, else until an account next has something to do.
     */
    private Duration pollTimeout(final long now) {
        if (backpressure.allPaused()) {
            return Duration.ZERO;
        }
        if (busy()) {
            return BUSY_POLL;
        }
        final long wake = nextWake(now);
        if (AccountExport.isNone(wake)) {
            return IDLE_POLL;
        }
        final long millis = TimeUnit.NANOSECONDS.toMillis(wake - now);
        return Duration.ofMillis(Math.max(1, Math.min(IDLE_POLL.toMillis(), millis)));
    }

    /** How long to wait on answers while every partition is paused. */
    private long waitMillis(final long now) {
        final long wake = nextWake(now);
        if (AccountExport.isNone(wake) || busy()) {
            return PAUSED_WAIT_MS;
        }
        return Math.max(1, Math.min(PAUSED_WAIT_MS, TimeUnit.NANOSECONDS.toMillis(wake - now)));
    }

    /** When some account next has something to do, or {@link AccountExport#NONE}. */
    private long nextWake(final long now) {
        long wake = AccountExport.NONE;
        for (final AccountExport account : accounts.values()) {
            final long accountWake = account.nextWake(now);
            if (!AccountExport.isNone(accountWake) && (AccountExport.isNone(wake) || accountWake < wake)) {
                wake = accountWake;
            }
        }
        return wake;
    }

    /** Whether requests or dead letters are in flight, or letters wait to be tried again. */
    private boolean busy() {
        return requestsInFlight() > 0 || deadLetters.busy();
    }

    private int requestsInFlight() {
        int total = 0;
        for (final AccountExport account : accounts.values()) {
            total += account.inFlight;
        }
        return total;
    }

    private void runCompletions(final long waitMillis) throws InterruptedException {
        Runnable next = waitMillis > 0 ? completions.poll(waitMillis, TimeUnit.MILLISECONDS) : completions.poll();
        while (next != null) {
            next.run();
            next = completions.poll();
        }
    }

    /** What is due besides reading and sending: dead letters to try again, a commit, the accounts' gauges. */
    private void maintain(final long now) {
        deadLetters.retryDue(now);
        offsets.commitIfDue(now);
        if (now - lastGauges >= GAUGE_INTERVAL_NANOS) {
            updateAccounts(now, now - lastSweep >= SWEEP_INTERVAL_NANOS);
        }
    }

    /** Sets each account's pending and lag gauges; on {@code sweep}, also forgets its idle users. */
    private void updateAccounts(final long now, final boolean sweep) {
        final long wallNow = System.currentTimeMillis();
        accounts.values().forEach(account -> {
            account.metrics.pending.set(account.pending());
            final long oldest = account.oldestPendingTimestamp();
            account.metrics.lagMillis.set(AccountExport.isNone(oldest) ? 0 : Math.max(0, wallNow - oldest));
            if (sweep) {
                account.forgetIdleUsers(now);
            }
        });
        lastSweep = sweep ? now : lastSweep;
        lastGauges = now;
    }

    /** A clean stop: no new requests; the answers of those in flight are awaited (bounded) and applied. */
    private void finishInFlight() throws InterruptedException {
        final long deadline = System.nanoTime() + settings.closeTimeout().toNanos();
        while ((requestsInFlight() > 0 || deadLetters.inFlight() > 0) && System.nanoTime() < deadline) {
            runCompletions(PAUSED_WAIT_MS);
        }
    }

    // ----------------------------------------------------------------------------------------------- sending

    private void dispatch(final long now) {
        for (final AccountExport account : accounts.values()) {
            Batch batch = account.nextBatch(now, backpressure::release);
            while (batch != null) {
                send(batch);
                batch = account.nextBatch(now, backpressure::release);
            }
        }
    }

    private void send(final Batch batch) {
        final AccountExport account = batch.account;
        account.sink.post(account.url, batch.body(), batch.events.size()).whenComplete((response, error) ->
            completions.add(() -> answers.apply(batch, response != null ? response
                : AmplitudeResponse.failed(error, false))));
    }

    // ------------------------------------------------------------------------------------------ rebalances

    /** Tracks assignments; commits what is finished before a partition leaves. */
    private final class Rebalance implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsRevoked(final Collection<TopicPartition> revoked) {
            final List<PartitionProgress> leaving = offsets.assignedAmong(revoked);
            try {
                offsets.commitSync(leaving);
            } catch (final RuntimeException e) {
                LOG.warn("Could not commit export offsets of revoked partitions {}: {}", revoked, e.toString());
            }
            forget(leaving);
        }

        @Override
        public void onPartitionsLost(final Collection<TopicPartition> lost) {
            forget(offsets.assignedAmong(lost));
        }

        @Override
        public void onPartitionsAssigned(final Collection<TopicPartition> assigned) {
            offsets.assign(assigned);
            LOG.info("Amplitude exporter assigned {}", assigned);
        }

        private void forget(final List<PartitionProgress> leaving) {
            // Their events still queued are dropped when the account reaches them; answers to them are ignored.
            leaving.forEach(progress -> {
                offsets.forget(progress);
                backpressure.forget(progress);
            });
        }
    }

    // ------------------------------------------------------------------------------------------- lifecycle

    /** Whether the loop is running (false after a failure or a stop). */
    public boolean isRunning() {
        return thread.isAlive();
    }

    /** The error that stopped the loop, or null. */
    public Throwable failure() {
        return failure;
    }

    /**
     * Simulates a crash, for tests: the loop stops at once, commits nothing (a commit already being made finishes
     * first), abandons the requests in flight and closes its consumer without leaving the group and without waiting
     * ({@code close(Duration.ZERO)}). Returns once the loop has ended.
     */
    public void halt() throws InterruptedException {
        requestHalt();
        thread.join(Duration.ofSeconds(30).toMillis());
    }

    /** {@link #halt()} without waiting for the loop: a unit test's fake client lands a halt where it is called. */
    void requestHalt() {
        // From here on nothing commits, wherever the loop is (ExporterHaltTest); the loop stops at its next check.
        offsets.halt();
    }

    /** A clean stop: waits (bounded) for the requests in flight, commits what finished, leaves the group. */
    @Override
    public void close() {
        running = false;
        try {
            thread.join(settings.closeTimeout().plusSeconds(30).toMillis());
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeClients() {
        try {
            consumer.close(offsets.halted() ? CloseOptions.timeout(Duration.ZERO)
                .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP)
                : CloseOptions.timeout(Duration.ofSeconds(30)));
        } catch (final RuntimeException e) {
            LOG.warn("Error closing the exporter's consumer: {}", e.toString());
        }
        try {
            deadLetters.close(offsets.halted() ? Duration.ZERO : Duration.ofSeconds(5));
        } catch (final RuntimeException e) {
            LOG.warn("Error closing the exporter's dead-letter producer: {}", e.toString());
        }
        http.close();
        if (dryRun != null) {
            dryRun.close();
        }
        LOG.info("Amplitude exporter {}",
            offsets.halted() ? "halted (crash simulation: nothing committed)" : "stopped");
    }
}
