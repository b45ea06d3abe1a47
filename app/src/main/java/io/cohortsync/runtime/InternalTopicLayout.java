package io.cohortsync.runtime;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.streams.TopologyDescription;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The partition counts Kafka Streams' internal topics must have, checked against those that exist before the start.
 * Repartition topics are created with {@code topology.partitions} (lookup keys and segments are routed by it), and a
 * changelog has one partition per task of its sub-topology, as many as its largest source topic. Once an application
 * id has run, a changed count on either side (another {@code topology.partitions}, a {@code requests} topic given
 * more partitions) would move keys away from their state; Kafka Streams then fails its rebalance on every attempt,
 * while the service looks RUNNING. Refusing the start says what changed instead.
 */
public final class InternalTopicLayout {

    private static final String REPARTITION = "-repartition";

    private InternalTopicLayout() {
    }

    /**
     * Fails the start when an existing internal topic of {@code applicationId} has another count than it needs.
     * {@code topology} is described before a {@code KafkaStreams} is made of it: its internal topics are not prefixed.
     */
    public static void require(final Admin admin, final TopologyDescription topology, final String applicationId,
                               final int partitions, final Collection<String> publicTopics)
        throws InterruptedException, ExecutionException, TimeoutException {
        final Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        final Map<String, Integer> sourceCounts = counts(admin, sourceTopics(topology).stream()
            .filter(publicTopics::contains).toList());
        final Map<String, Integer> needed = expected(topology, applicationId, partitions, sourceCounts);
        needed.keySet().retainAll(existing);
        final Map<String, Integer> actual = counts(admin, List.copyOf(needed.keySet()));
        final List<String> wrong = new ArrayList<>();
        needed.forEach((topic, count) -> {
            if (!actual.get(topic).equals(count)) {
                wrong.add(topic + " has " + actual.get(topic) + " partitions, needs " + count);
            }
        });
        if (!wrong.isEmpty()) {
            throw new StartupException(message(wrong, partitions, sourceCounts, applicationId), null);
        }
    }

    /**
     * Every internal topic of the topology with the partition count Kafka Streams will require of it, given the
     * partition counts of the public topics it reads.
     */
    static Map<String, Integer> expected(final TopologyDescription topology, final String applicationId,
                                         final int partitions, final Map<String, Integer> publicCounts) {
        final Map<String, Integer> expected = new LinkedHashMap<>();
        for (final TopologyDescription.Subtopology subtopology : topology.subtopologies()) {
            int tasks = 0;
            for (final String source : sources(subtopology)) {
                final Integer count = publicCounts.get(source);
                if (count == null && source.endsWith(REPARTITION)) {
                    expected.put(internalName(applicationId, source), partitions);
                }
                tasks = Math.max(tasks, count != null ? count : partitions);
            }
            for (final String store : stores(subtopology)) {
                expected.put(applicationId + "-" + store + "-changelog", tasks);
            }
        }
        return expected;
    }

    private static String message(final List<String> wrong, final int partitions,
                                  final Map<String, Integer> sourceCounts, final String applicationId) {
        return "the internal topics of application-id " + applicationId + " were made for other partition counts: "
            + String.join("; ", wrong) + ". With topology.partitions=" + partitions + " and the topics it reads "
            + "partitioned as " + sourceCounts + ". Once an application id has run, neither topology.partitions nor "
            + "the partition count of a topic it reads (requests, profiles, partner-sync, engagement-events) may "
            + "change: their keys would move away from the state kept for them. Put the old count back (README, "
            + "\"Scaling and partition counts\")";
    }

    /**
     * The topology's description names a repartition topic as its stage does, before Kafka Streams prefixes it with
     * the application id; a name that merely starts like the id (member-lookups under id "member") is prefixed too.
     */
    private static String internalName(final String applicationId, final String topic) {
        return applicationId + "-" + topic;
    }

    private static Set<String> sourceTopics(final TopologyDescription topology) {
        final Set<String> topics = new HashSet<>();
        topology.subtopologies().forEach(subtopology -> topics.addAll(sources(subtopology)));
        return topics;
    }

    private static Set<String> sources(final TopologyDescription.Subtopology subtopology) {
        final Set<String> topics = new HashSet<>();
        subtopology.nodes().stream().filter(TopologyDescription.Source.class::isInstance)
            .map(TopologyDescription.Source.class::cast)
            .filter(source -> source.topicSet() != null)
            .forEach(source -> topics.addAll(source.topicSet()));
        return topics;
    }

    private static Set<String> stores(final TopologyDescription.Subtopology subtopology) {
        final Set<String> stores = new HashSet<>();
        subtopology.nodes().stream().filter(TopologyDescription.Processor.class::isInstance)
            .forEach(processor -> stores.addAll(((TopologyDescription.Processor) processor).stores()));
        return stores;
    }

    private static Map<String, Integer> counts(final Admin admin, final List<String> topics)
        throws InterruptedException, ExecutionException, TimeoutException {
        final Map<String, Integer> counts = new LinkedHashMap<>();
        if (topics.isEmpty()) {
            return counts;
        }
        // Once visible: a topic the start has just created may not be known yet to the broker that answers.
        final Map<String, TopicDescription> described = TopicBootstrapper.describeOnceVisible(admin, topics);
        topics.stream().sorted().forEach(topic -> counts.put(topic, described.get(topic).partitions().size()));
        return counts;
    }
}
