package io.cohortsync.runtime;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Says when the profile table has read every profile that was on the profiles topic when the service started, and
 * the identity index every update they made: until then identity resolution holds its lookups.
 *
 * <p>Two steps, on the committed offsets of the application's group (the same for every instance): its offsets on
 * the profiles topic reach that topic's ends as of the start; then its offsets on the index-update repartition topic
 * reach that topic's read_uncommitted ends (high watermarks) as of the moment the first step held. Under
 * exactly_once_v2 a committed profiles offset comes with the index updates it made, so the second step's ends cover
 * them all: not last stable offsets, since the transaction's offsets can be visible before its marker is written on
 * every partition it wrote to.
 *
 * <p>A partition whose committed offset is short of its end at the first check, or stays so for a second, is looked
 * into ({@link ReadableRecordProbe}), within one time budget per check for all partitions: Kafka Streams commits an
 * offset only for a partition it processed a record from since its last commit, so a rest that holds only aborted
 * records and transaction markers is never committed past, and counts as read.
 */
public final class ProfileTableCatchUp implements BooleanSupplier, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProfileTableCatchUp.class);
    static final String WAITING_GAUGE = "cohort_sync_identity_waiting_for_profiles";
    private static final Duration CHECK_INTERVAL = Duration.ofSeconds(1);
    private static final Duration PROGRESS_LOG_INTERVAL = Duration.ofSeconds(10);
    private static final Duration ADMIN_CLOSE_TIMEOUT = Duration.ofSeconds(10);
    /** How long one check may spend looking into partitions, all of them together. */
    private static final Duration PROBE_BUDGET = Duration.ofSeconds(2);
    /** The first check runs on the starting thread, before Kafka Streams starts: it may not hold the start long. */
    static final Duration FIRST_PROBE_BUDGET = Duration.ofSeconds(1);

    private final String groupId;
    private final String profilesTopic;
    private final String indexUpdatesTopic;
    private final ScheduledExecutorService checker = Executors.newSingleThreadScheduledExecutor(runnable -> {
        final Thread thread = new Thread(runnable, "cohort-sync-profile-catch-up");
        thread.setDaemon(true);
        return thread;
    });
    private volatile boolean loaded;
    private volatile Admin admin;
    private volatile RestProbe probe;
    /** The committed offsets the previous check saw (null before the first): one that did not move is probed. */
    private Map<TopicPartition, Long> previousCommitted;
    /** Partitions whose rest was found unreadable, at the committed offset logged. */
    private final Map<TopicPartition, Long> unreadableRests = new HashMap<>();
    private Map<TopicPartition, Long> profileEnds;
    private Map<TopicPartition, Long> indexUpdateEnds;
    private long startNanos;
    private long lastLogNanos;

    public ProfileTableCatchUp(final String groupId, final String profilesTopic, final String indexUpdatesTopic,
                               final MeterRegistry registry) {
        this.groupId = groupId;
        this.profilesTopic = profilesTopic;
        this.indexUpdatesTopic = indexUpdatesTopic;
        Gauge.builder(WAITING_GAUGE, this, catchUp -> catchUp.loaded ? 0 : 1)
            .description("1 while identity resolution waits for the profile table to read the profiles that were on "
                + "the profiles topic at start")
            .register(registry);
    }

    @Override
    public boolean getAsBoolean() {
        return loaded;
    }

    /**
     * Takes the profiles topic's ends now and checks once (a restart that finds the table caught up holds nothing);
     * then checks every second on its own thread, with an admin client and a consumer made from {@code clientConfig}
     * (bootstrap servers and security settings), which it closes when done.
     */
    public void start(final Map<String, Object> clientConfig) {
        start(Admin.create(clientConfig), new ReadableRecordProbe(clientConfig, groupId + "-profile-catch-up"));
    }

    /** As {@link #start(Map)}, with the clients given (closed when done). */
    void start(final Admin admin, final RestProbe probe) {
        this.admin = admin;
        this.probe = probe;
        startNanos = System.nanoTime();
        lastLogNanos = startNanos;
        if (checkNow()) {
            return;
        }
        LOG.info("Identity resolution waits until the profile table has read the profiles already on {}: a sync "
            + "resolved before would not find the profiles further down and create second ones. Syncs arriving "
            + "meanwhile are held, in order (gauge {} is 1)", profilesTopic, WAITING_GAUGE);
        checker.scheduleWithFixedDelay(() -> {
            if (checkNow()) {
                checker.shutdown();
            }
        }, CHECK_INTERVAL.toMillis(), CHECK_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One check; true, with the admin client closed, once the table has caught up. */
    private boolean checkNow() {
        try {
            if (profileEnds == null) {
                profileEnds = ConsumerLag.ends(admin, List.of(profilesTopic));
            }
            check();
        } catch (final ExecutionException | TimeoutException | RuntimeException e) {
            if (logDue()) {
                LOG.warn("Could not read how far the profile table is yet ({}); syncs stay held, trying again every "
                    + "second", e.toString());
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (loaded) {
            closeClients();
        }
        return loaded;
    }

    private void check() throws ExecutionException, InterruptedException, TimeoutException {
        final Map<TopicPartition, Long> committed = ConsumerLag.committed(admin, groupId);
        final Map<TopicPartition, Long> previous = previousCommitted;
        previousCommitted = committed;
        final long probeDeadline = System.nanoTime() + (previous == null ? FIRST_PROBE_BUDGET : PROBE_BUDGET).toNanos();
        final long profilesLeft = left(committed, previous, profileEnds, probeDeadline);
        if (profilesLeft > 0) {
            logProgress("{} profile records on {} still to read", profilesLeft, profilesTopic);
            return;
        }
        if (indexUpdateEnds == null) {
            indexUpdateEnds = indexUpdateEnds();
        }
        final long updatesLeft = left(committed, previous, indexUpdateEnds, probeDeadline);
        if (updatesLeft > 0) {
            logProgress("{} identity-index updates on {} still to apply", updatesLeft, indexUpdatesTopic);
            return;
        }
        loaded = true;
        final long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        if (waitedMillis >= CHECK_INTERVAL.toMillis()) {
            LOG.info("The profile table has read the profiles that were on {} at start (after {} s): identity "
                + "resolution goes on, held syncs first", profilesTopic, waitedMillis / 1000);
        }
    }

    /**
     * The records before the committed offsets reach {@code ends}, but for partitions whose rest holds no record
     * Kafka Streams would read: looked into at the first check, and later when the offset did not move since the
     * previous one (while Kafka Streams reads on, a partition's offset moves and needs no look).
     */
    private long left(final Map<TopicPartition, Long> committed, final Map<TopicPartition, Long> previous,
                      final Map<TopicPartition, Long> ends, final long probeDeadline) {
        final Map<TopicPartition, Long> stillToRead = new HashMap<>(ends);
        ends.forEach((partition, end) -> {
            final long from = committed.getOrDefault(partition, 0L);
            final boolean stalled = previous == null || from == previous.getOrDefault(partition, 0L);
            if (from < end && stalled && !probe.anyBetween(partition, from, end, probeDeadline)) {
                stillToRead.remove(partition);
                if (!Long.valueOf(from).equals(unreadableRests.put(partition, from))) {
                    LOG.info("Nothing Kafka Streams would read is left on {} from offset {} to {} (only aborted "
                        + "records or transaction markers): counted as read", partition, from, end);
                }
            }
        });
        return ConsumerLag.lag(committed, stillToRead);
    }

    /**
     * None while the repartition topic does not exist: Kafka Streams creates it as it starts, before any profile was
     * read, so it holds nothing yet.
     */
    private Map<TopicPartition, Long> indexUpdateEnds() throws ExecutionException, InterruptedException,
        TimeoutException {
        try {
            return ConsumerLag.ends(admin, List.of(indexUpdatesTopic), IsolationLevel.READ_UNCOMMITTED);
        } catch (final ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return Map.of();
            }
            throw e;
        }
    }

    private void logProgress(final String format, final long left, final String topic) {
        if (logDue()) {
            LOG.info("Identity resolution still waits for the profile table: " + format, left, topic);
        }
    }

    private boolean logDue() {
        final long now = System.nanoTime();
        if (now - lastLogNanos < PROGRESS_LOG_INTERVAL.toNanos()) {
            return false;
        }
        lastLogNanos = now;
        return true;
    }

    /**
     * Whether a partition holds a record Kafka Streams would read between two offsets ({@link ReadableRecordProbe});
     * true when it cannot tell by the deadline, and the next call for the same range goes on from there.
     */
    interface RestProbe extends AutoCloseable {
        boolean anyBetween(TopicPartition partition, long from, long end, long deadlineNanos);

        @Override
        void close();
    }

    @Override
    public void close() {
        checker.shutdownNow();
        try {
            // The clients are not for two threads: a check under way ends first.
            checker.awaitTermination(ADMIN_CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeClients();
    }

    /** Closing twice (once loaded, and at the service's stop) is harmless. */
    private void closeClients() {
        final Admin startedAdmin = admin;
        if (startedAdmin != null) {
            startedAdmin.close(ADMIN_CLOSE_TIMEOUT);
        }
        final RestProbe startedProbe = probe;
        if (startedProbe != null) {
            try {
                startedProbe.close();
            } catch (final RuntimeException e) {
                LOG.debug("Closing the profile catch-up's consumer: {}", e.toString());
            }
        }
    }
}
