package io.cohortsync.testing;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import kafka.server.BrokerServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.awaitility.Awaitility;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A one-node Kafka (combined broker and controller, KRaft) for integration tests, over Kafka's own
 * {@link KafkaClusterTestKit}: {@code try (KafkaTestCluster kafka = KafkaTestCluster.start()) { ... }} or a
 * {@code static} field started in {@code @BeforeAll} and closed in {@code @AfterAll}.
 *
 * <p>It runs the production feature levels of this Kafka release (the test kit's default turns on unstable ones) and
 * the same single-node settings as the service's embedded broker, so exactly_once_v2 works. Its storage is a temp dir
 * deleted on close.
 */
public final class KafkaTestCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaTestCluster.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaClusterTestKit kit;
    private final Admin admin;

    private KafkaTestCluster(final KafkaClusterTestKit kit) {
        this.kit = kit;
        this.admin = kit.admin();
    }

    /** Formats, starts and waits until the broker accepts clients (about 2 s). */
    public static KafkaTestCluster start() {
        return start(Map.of());
    }

    /** As {@link #start()}, with broker settings that differ from the single-node ones (a broker default under test). */
    public static KafkaTestCluster start(final Map<String, String> brokerOverrides) {
        KafkaClusterTestKit kit = null;
        try {
            kit = build(brokerOverrides);
            kit.format();
            kit.startup();
            kit.waitForReadyBrokers();
            final KafkaTestCluster cluster = new KafkaTestCluster(kit);
            LOG.info("Kafka test cluster ready at {}", cluster.bootstrapServers());
            return cluster;
        } catch (final Exception e) {
            closeQuietly(kit);
            throw new IllegalStateException("Kafka test cluster failed to start", e);
        }
    }

    /** {@code localhost:<port>}; the port stays the same across {@link #restartBroker()}. */
    public String bootstrapServers() {
        return kit.bootstrapServers();
    }

    /** Creates topics with replication factor 1 and waits until the broker serves them. */
    public void createTopics(final Map<String, Integer> partitionsByTopic) {
        createTopics(partitionsByTopic, Map.of());
    }

    /** Creates topics with replication factor 1 and the same topic configs (e.g. cleanup.policy) on each. */
    public void createTopics(final Map<String, Integer> partitionsByTopic, final Map<String, String> configs) {
        final List<NewTopic> topics = partitionsByTopic.entrySet().stream()
                .map(e -> new NewTopic(e.getKey(), e.getValue(), (short) 1).configs(configs))
                .collect(Collectors.toList());
        await("create topics " + partitionsByTopic.keySet(), () -> admin.createTopics(topics).all()
                .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        // The controller has committed the topics; the broker applies them to its metadata a moment later, and until
        // then a describeConfigs of one fails with UNKNOWN_TOPIC_OR_PARTITION.
        Awaitility.await("broker serves topics " + partitionsByTopic.keySet())
                .atMost(ADMIN_TIMEOUT)
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() -> brokerServes(partitionsByTopic));
    }

    private boolean brokerServes(final Map<String, Integer> partitionsByTopic) throws Exception {
        final Map<String, TopicDescription> descriptions = admin.describeTopics(partitionsByTopic.keySet())
                .allTopicNames().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        final List<ConfigResource> resources = partitionsByTopic.keySet().stream()
                .map(topic -> new ConfigResource(ConfigResource.Type.TOPIC, topic))
                .collect(Collectors.toList());
        admin.describeConfigs(resources).all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return partitionsByTopic.entrySet().stream().allMatch(e -> descriptions.get(e.getKey()).partitions().stream()
                .filter(partition -> partition.leader() != null).count() == e.getValue());
    }

    /**
     * Stops the broker and starts it again on the same port and storage, the way a broker restart looks to clients;
     * returns once it accepts clients again (about 3 s, bounded by the broker session timeout set below). The
     * controller half of the node keeps running, so this is a broker restart, not a full process restart.
     */
    public void restartBroker() {
        final BrokerServer broker = broker();
        final int portBefore = port(broker);
        // The test kit binds its sockets itself and reopens a closed one on the same port, so the stopped
        // BrokerServer can simply be started again (what ClusterInstance.shutdownBroker/startBroker do).
        broker.shutdown();
        broker.awaitShutdown();
        broker.startup();
        await("broker ready after restart", () -> {
            kit.waitForReadyBrokers();
            return null;
        });
        if (port(broker) != portBefore) {
            throw new IllegalStateException("Broker came back on port " + port(broker) + ", not " + portBefore);
        }
        LOG.info("Kafka test broker restarted on port {}", portBefore);
    }

    /** The admin client of this cluster; owned by it and closed with it. */
    public Admin admin() {
        return admin;
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
        closeQuietly(kit);
    }

    private static KafkaClusterTestKit build(final Map<String, String> brokerOverrides) throws Exception {
        final TestKitNodes nodes = new TestKitNodes.Builder(productionBootstrapMetadata())
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1)
                .build();
        final KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes);
        singleNodeConfig().forEach(builder::setConfigProp);
        brokerOverrides.forEach(builder::setConfigProp);
        return builder.build();
    }

    private static BootstrapMetadata productionBootstrapMetadata() {
        final MetadataVersion version = MetadataVersion.latestProduction();
        final Map<String, Short> levels = Feature.PRODUCTION_FEATURES.stream()
                .collect(Collectors.toMap(Feature::featureName, f -> f.defaultLevel(version)));
        return BootstrapMetadata.fromVersions(version, levels, "cohort-sync test cluster");
    }

    // The same as the embedded broker's: one node means every replication factor and min ISR is 1 (consumer offsets,
    // transaction state for exactly_once_v2, share-group state), and small internal topics start faster.
    private static Map<String, String> singleNodeConfig() {
        return Map.ofEntries(
                Map.entry("offsets.topic.replication.factor", "1"),
                Map.entry("offsets.topic.num.partitions", "4"),
                Map.entry("transaction.state.log.replication.factor", "1"),
                Map.entry("transaction.state.log.min.isr", "1"),
                Map.entry("transaction.state.log.num.partitions", "4"),
                Map.entry("share.coordinator.state.topic.replication.factor", "1"),
                Map.entry("share.coordinator.state.topic.min.isr", "1"),
                Map.entry("share.coordinator.state.topic.num.partitions", "4"),
                Map.entry("min.insync.replicas", "1"),
                Map.entry("default.replication.factor", "1"),
                Map.entry("num.partitions", "4"),
                Map.entry("group.initial.rebalance.delay.ms", "0"),
                Map.entry("auto.create.topics.enable", "false"),
                // The controller refuses the restarted broker's new registration until the old one's session times
                // out, so restartBroker() takes about one session timeout: 2.5 s instead of Kafka's 9 s.
                Map.entry("broker.heartbeat.interval.ms", "500"),
                Map.entry("broker.session.timeout.ms", "2500"),
                // The test kit turns these on by default; tests should see what a released broker offers.
                Map.entry("unstable.api.versions.enable", "false"),
                Map.entry("unstable.feature.versions.enable", "false"));
    }

    private BrokerServer broker() {
        return kit.brokers().values().iterator().next();
    }

    private int port(final BrokerServer broker) {
        return broker.boundPort(kit.nodes().brokerListenerName());
    }

    private static void closeQuietly(final KafkaClusterTestKit kit) {
        if (kit == null) {
            return;
        }
        try {
            kit.close();
        } catch (final Exception e) {
            LOG.warn("Error closing the Kafka test cluster", e);
        }
    }

    private static <T> T await(final String what, final Action<T> action) {
        try {
            return action.run();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted: " + what, e);
        } catch (final ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Failed to " + what + ": " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    private interface Action<T> {
        T run() throws InterruptedException, ExecutionException, TimeoutException;
    }
}
