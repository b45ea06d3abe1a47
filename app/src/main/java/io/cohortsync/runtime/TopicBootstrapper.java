package io.cohortsync.runtime;

import io.cohortsync.topology.Topic;
import io.cohortsync.topology.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Creates cohort-sync's topics that do not exist yet, with the right cleanup policy; leaves existing ones alone.
 * {@code profiles}, {@code partner-sync} and {@code engagement-events} must have one partition count: the tasks that
 * read the last two look profiles up in the table built from the first (the export's mapping, the profile queries),
 * so a record must land in the partition of the same number. Missing ones are created to match {@code profiles},
 * and the start fails when existing ones differ (Kafka Streams checks this only for DSL joins).
 */
public final class TopicBootstrapper {

    private static final Logger LOG = LoggerFactory.getLogger(TopicBootstrapper.class);

    private TopicBootstrapper() {
    }

    public static void ensureTopics(final Admin admin, final Topics topics, final int partitions,
                                    final short replicationFactor, final int maxRecordBytes) {
        final Set<String> existing = existingTopics(admin);
        ask("create cohort-sync's topics", () -> {
            final List<String> keyedByProfile = profileKeyedTopics(topics);
            final int profilePartitions = profileKeyedPartitions(admin, keyedByProfile, existing, partitions);
            final List<NewTopic> missing = new ArrayList<>();
            for (final Topic<?, ?> topic : topics.all()) {
                if (!existing.contains(topic.name())) {
                    missing.add(newTopic(topic, keyedByProfile.contains(topic.name()) ? profilePartitions
                        : partitions, replicationFactor, maxRecordBytes));
                }
            }
            create(admin, missing);
            requireProfileCoPartitioning(admin, topics);
            requireRoomForDeadLetters(admin, topics, maxRecordBytes);
            requireRoomForRequests(admin, topics, maxRecordBytes);
            return null;
        });
    }

    /** With {@code topics.create} off: fails, naming them, unless every topic cohort-sync uses exists. */
    public static void requireTopics(final Admin admin, final Topics topics, final int maxRecordBytes) {
        final Set<String> existing = existingTopics(admin);
        final List<String> missing = topics.all().stream().map(Topic::name).filter(n -> !existing.contains(n))
            .toList();
        if (!missing.isEmpty()) {
            throw new StartupException("topics.create is false and these topics do not exist: " + missing
                + ". Create them (deploy/README.md lists their settings) or set topics.create=true", null);
        }
        ask("describe cohort-sync's topics", () -> {
            requireProfileCoPartitioning(admin, topics);
            requireRoomForDeadLetters(admin, topics, maxRecordBytes);
            requireRoomForRequests(admin, topics, maxRecordBytes);
            return null;
        });
    }

    /** One exchange with Kafka's admin API, which may not answer. */
    @FunctionalInterface
    interface AdminCall<T> {
        T call() throws InterruptedException, ExecutionException, TimeoutException;
    }

    /** Runs {@code call}; a broker that does not answer becomes a {@link StartupException} saying what failed. */
    static <T> T ask(final String what, final AdminCall<T> call) {
        try {
            return call.call();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while trying to " + what, e);
        } catch (final ExecutionException | TimeoutException e) {
            throw unreachable(what, e);
        }
    }

    /**
     * A dead letter wraps the largest record cohort-sync accepts. On a topic that cannot take it, the write fails on
     * every retry, and under exactly_once_v2 the transaction holding it can never commit: the input would stall.
     */
    private static void requireRoomForDeadLetters(final Admin admin, final Topics topics, final int maxRecordBytes)
        throws InterruptedException, ExecutionException, TimeoutException {
        requireMaxMessageBytes(admin, topics.deadLetters.name(), maxMessageBytes(maxRecordBytes),
            "a dead letter of the largest record cohort-sync accepts (ingest.max-record-bytes=" + maxRecordBytes + ")");
    }

    /**
     * The webhook and {@code produce} write request records of up to {@code ingest.max-record-bytes}. Existing topics
     * keep the limit they were created with: after that setting was raised, a record between the two limits would be
     * refused on every retry (a webhook call answered 503 forever), though the same call fitted before the change.
     * The same room as the topics cohort-sync creates: a record batch adds its key, headers and framing to the value.
     */
    private static void requireRoomForRequests(final Admin admin, final Topics topics, final int maxRecordBytes)
        throws InterruptedException, ExecutionException, TimeoutException {
        requireMaxMessageBytes(admin, topics.requests.name(), maxMessageBytes(maxRecordBytes),
            "a request record of ingest.max-record-bytes=" + maxRecordBytes + " (the webhook's and produce's largest), "
                + "with its key, headers and batch framing,");
    }

    private static void requireMaxMessageBytes(final Admin admin, final String topic, final int needed,
                                               final String what)
        throws InterruptedException, ExecutionException, TimeoutException {
        final ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        describeOnceVisible(admin, List.of(topic));
        final ConfigEntry entry;
        try {
            entry = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource)
                .get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        } catch (final ExecutionException e) {
            if (e.getCause() instanceof AuthorizationException) {
                LOG.warn("Cannot check {}'s {} (no DescribeConfigs permission on it): make sure it is at least {}",
                    topic, TopicConfig.MAX_MESSAGE_BYTES_CONFIG, needed);
                return;
            }
            throw e;
        }
        if (entry != null && entry.value() != null && Long.parseLong(entry.value()) < needed) {
            throw new StartupException("topic " + topic + " has " + TopicConfig.MAX_MESSAGE_BYTES_CONFIG + "="
                + entry.value() + ", but " + what + " needs " + needed + ": raise it (kafka-configs.sh --alter "
                + "--entity-type topics --entity-name " + topic + " --add-config " + TopicConfig.MAX_MESSAGE_BYTES_CONFIG
                + "=" + needed + ") or lower ingest.max-record-bytes", null);
        }
    }

    /**
     * The partition count for the missing topics keyed by profile: that of those that exist (checked alike before
     * anything is created), else {@code partitions}.
     */
    private static int profileKeyedPartitions(final Admin admin, final List<String> keyedByProfile,
                                              final Set<String> existing, final int partitions)
        throws InterruptedException, ExecutionException, TimeoutException {
        final List<String> present = keyedByProfile.stream().filter(existing::contains).toList();
        if (present.isEmpty()) {
            return partitions;
        }
        final Map<String, Integer> counts = partitionCounts(admin, present);
        requireOneCount(counts);
        return counts.values().iterator().next();
    }

    /** The topics keyed {@code <accountId>|<objectId>} that the profile table's tasks read. */
    private static List<String> profileKeyedTopics(final Topics topics) {
        return List.of(topics.profiles.name(), topics.partnerSync.name(), topics.engagementEvents.name());
    }

    private static void requireProfileCoPartitioning(final Admin admin, final Topics topics)
        throws InterruptedException, ExecutionException, TimeoutException {
        requireOneCount(partitionCounts(admin, profileKeyedTopics(topics)));
    }

    private static void requireOneCount(final Map<String, Integer> counts) {
        if (new HashSet<>(counts.values()).size() > 1) {
            final Map.Entry<String, Integer> first = counts.entrySet().iterator().next();
            throw new StartupException("topics " + counts.keySet() + " must have the same number of partitions, but "
                + "have " + counts + ": their records are keyed <accountId>|<objectId> and looked up in the profile "
                + "table of the task that reads them (the export's mapping, GET /profiles/...), so each must land in "
                + "the partition of the same number. Recreate the others with the " + first.getValue() + " partitions "
                + "of " + first.getKey() + " (or delete them and let cohort-sync create them, topics.create=true); "
                + "producers must use Kafka's default partitioner", null);
        }
    }

    /** Partition counts in the order of {@code names}. */
    private static Map<String, Integer> partitionCounts(final Admin admin, final List<String> names)
        throws InterruptedException, ExecutionException, TimeoutException {
        final Map<String, TopicDescription> described = describeOnceVisible(admin, names);
        final Map<String, Integer> counts = new LinkedHashMap<>();
        names.forEach(name -> counts.put(name, described.get(name).partitions().size()));
        return counts;
    }

    private static Set<String> existingTopics(final Admin admin) {
        return ask("list cohort-sync's topics", () -> admin.listTopics().names().get(30, TimeUnit.SECONDS));
    }

    /** A timeout's message may be null: the exception's own text, and the wait, say what failed. */
    private static StartupException unreachable(final String what, final Exception e) {
        final Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return new StartupException("cannot " + what + ": " + cause
            + (e instanceof TimeoutException ? " (no answer within 30 s)" : ""), e);
    }

    static NewTopic newTopic(final Topic<?, ?> topic, final int partitions, final short replicationFactor,
                             final int maxRecordBytes) {
        final Map<String, String> configs = new HashMap<>();
        configs.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, String.valueOf(minInSyncReplicas(replicationFactor)));
        // A full batch (10,000 members) can pass the broker's 1 MiB default; a dead letter wraps such a record.
        configs.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(maxMessageBytes(maxRecordBytes)));
        if (topic.compacted()) {
            configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
        }
        return new NewTopic(topic.name(), partitions, replicationFactor).configs(configs);
    }

    /**
     * acks=all waits only for the in-sync replicas, and the broker's default min.insync.replicas of 1 lets a write be
     * acknowledged by the leader alone: lost if that broker's disk is. Two copies, and one broker may still be down
     * (a rolling restart) without stopping writes; at replication factor 2 that leaves 1.
     */
    public static int minInSyncReplicas(final short replicationFactor) {
        return Math.max(1, Math.min(2, replicationFactor - 1));
    }

    /** Room for the largest accepted record plus what a dead letter adds around it. */
    public static int maxMessageBytes(final int maxRecordBytes) {
        return maxRecordBytes + 64 * 1024;
    }

    private static void create(final Admin admin, final List<NewTopic> missing)
        throws InterruptedException, TimeoutException, ExecutionException {
        if (missing.isEmpty()) {
            return;
        }
        try {
            admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
        } catch (final ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        missing.forEach(topic -> LOG.info("Created topic {} ({} partitions, replication {}{})", topic.name(),
            topic.numPartitions(), topic.replicationFactor(),
            topic.configs() == null ? "" : ", " + topic.configs()));
    }

    /**
     * The topics' descriptions. A topic created a moment ago can still be unknown to the broker that answers (it
     * applies the controller's metadata asynchronously), so that answer is retried for up to 30 s.
     */
    static Map<String, TopicDescription> describeOnceVisible(final Admin admin, final List<String> names)
        throws InterruptedException, ExecutionException, TimeoutException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
            } catch (final ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }
}
