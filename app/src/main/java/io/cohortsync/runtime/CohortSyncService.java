package io.cohortsync.runtime;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.embedded.EmbeddedConnection;
import io.cohortsync.embedded.EmbeddedKafkaBroker;
import io.cohortsync.embedded.EmbeddedRegistryServer;
import io.cohortsync.http.CohortSyncHttpServer;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.metrics.CohortSyncMetrics;
import io.cohortsync.serde.SchemaRegistryRefusedException;
import io.cohortsync.serde.SchemaRegistryUnavailableException;
import io.cohortsync.topology.CohortSyncTopology;
import io.cohortsync.topology.Topic;
import io.cohortsync.topology.Topics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyDescription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs cohort-sync: on the configured cluster, or, with no Kafka configured, on an in-process single-node KRaft
 * broker with an in-memory schema registry (the embedded default of ARCHITECTURE section 7).
 */
public final class CohortSyncService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CohortSyncService.class);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration ADMIN_CLOSE_TIMEOUT = Duration.ofSeconds(5);

    private final CohortSyncConfig config;
    private final EmbeddedKafkaBroker broker;
    private final EmbeddedRegistryServer registryServer;
    private final String bootstrapServers;
    private final Topics topics;
    private final KafkaStreams streams;
    private final TopologyDescription topologyDescription;
    private final CohortSyncMetrics metrics;
    private final CohortSyncHttpServer http;
    private final KafkaStreamsMetrics streamsMetrics;
    private final ProfileTableCatchUp profileCatchUp;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile io.cohortsync.export.AmplitudeExporter exporter;

    private CohortSyncService(final CohortSyncConfig config, final EmbeddedKafkaBroker broker,
                              final EmbeddedRegistryServer registryServer) {
        this.config = config;
        this.broker = broker;
        this.registryServer = registryServer;
        this.bootstrapServers = broker != null ? broker.bootstrapServers() : config.bootstrapServers();
        this.topics = Topics.create(config.topicPrefix(), config.serdeConfig());
        this.metrics = CohortSyncMetrics.prometheus(config.accounts().keySet());
        this.profileCatchUp = new ProfileTableCatchUp(config.applicationId(), topics.profiles.name(),
            config.applicationId() + "-" + IdentityTopology.INDEX_UPDATES_TOPIC + "-repartition", metrics.registry());
        // HTTP first: its bound port (http.port=0 picks one) is this instance's application.server.
        this.http = startHttp(config, topics, bootstrapServers, metrics);
        try {
            final Properties props = StreamsSettings.of(config, bootstrapServers, http.advertised());
            final Topology topology = CohortSyncTopology.build(config, topics, props, metrics, profileCatchUp);
            this.topologyDescription = topology.describe();
            LOG.debug("Topology:\n{}", topologyDescription);
            this.streams = new KafkaStreams(topology, props);
            this.streamsMetrics = new KafkaStreamsMetrics(streams);
            streamsMetrics.bindTo(metrics.registry());
            http.attach(streams, topologyDescription);
        } catch (final RuntimeException e) {
            http.close();
            throw e;
        }
    }

    /** A port another process holds is fixed with a flag, not a bug to debug: a StartupException, one line. */
    static CohortSyncHttpServer startHttp(final CohortSyncConfig config, final Topics topics,
                                          final String bootstrapServers, final CohortSyncMetrics metrics) {
        try {
            return CohortSyncHttpServer.start(config, topics, bootstrapServers, metrics);
        } catch (final IllegalStateException e) {
            if (!Causes.has(e, BindException.class)) {
                throw e;
            }
            throw new StartupException(e.getMessage() + "; another process may hold the port: stop it, or pick "
                + "a free one with --set http.port=<free port>", e);
        }
    }

    /** Starts the service; returns once Kafka Streams is starting (see {@link #awaitRunning}). */
    public static CohortSyncService start(final CohortSyncConfig config) {
        EmbeddedKafkaBroker broker = null;
        EmbeddedRegistryServer registryServer = null;
        try {
            if (config.embedded()) {
                broker = EmbeddedKafkaBroker.start(config.embeddedDataDir(), config.embeddedPort());
                registryServer = EmbeddedRegistryServer.start(mockScope(config), 0);
                new EmbeddedConnection(broker.bootstrapServers(), registryServer.url())
                    .writeTo(config.embeddedDataDir());
            }
            final CohortSyncService service = new CohortSyncService(config, broker, registryServer);
            try {
                service.startStreams();
            } catch (final RuntimeException e) {
                service.abandonStart();
                throw e;
            }
            return service;
        } catch (final IOException e) {
            closeEmbedded(config, registryServer, broker);
            throw new UncheckedIOException("cannot start the embedded mode: " + e.getMessage(), e);
        } catch (final RuntimeException e) {
            closeEmbedded(config, registryServer, broker);
            throw e;
        }
    }

    /**
     * After {@link #startStreams} failed: what the constructor made stops too, the Kafka Streams metrics binder
     * included, whose refresh thread would otherwise run for the life of the JVM.
     */
    private void abandonStart() {
        closeQuietly(http, profileCatchUp);
        streams.close(CLOSE_TIMEOUT);
        streamsMetrics.close();
    }

    /** After a failed start: the embedded parts stop, and their connection file goes, so no client waits on them. */
    private static void closeEmbedded(final CohortSyncConfig config, final EmbeddedRegistryServer registryServer,
                                      final EmbeddedKafkaBroker broker) {
        closeQuietly(registryServer, broker);
        if (broker != null) {
            EmbeddedConnection.delete(config.embeddedDataDir());
        }
    }

    private void startStreams() {
        final Admin admin = Admin.create(adminConfig());
        try {
            if (config.createTopics()) {
                TopicBootstrapper.ensureTopics(admin, topics, config.partitions(), config.replicationFactor(),
                    config.maxRecordBytes());
            } else {
                TopicBootstrapper.requireTopics(admin, topics, config.maxRecordBytes());
            }
            TopicBootstrapper.ask("check Kafka Streams' internal topics", () -> {
                InternalTopicLayout.require(admin, topologyDescription, config.applicationId(), config.partitions(),
                    topics.all().stream().map(Topic::name).toList());
                return null;
            });
        } catch (final StartupException e) {
            throw new StartupException("Kafka at " + bootstrapServers + ": " + e.getMessage(), e.getCause());
        } finally {
            // Bounded: a plain close would wait out the request Kafka never answered (default.api.timeout.ms).
            admin.close(ADMIN_CLOSE_TIMEOUT);
        }
        registerWrittenSchemas();
        // The HTTP server has served since the constructor; the webhook writes only now that its topic is as configured.
        http.openIngest();
        // Transient failures (a registry outage, a broker restart) must not stop the service: the thread is replaced,
        // and under exactly_once_v2 its open transaction is aborted and the records re-processed.
        streams.setUncaughtExceptionHandler(new StreamThreadFailures(closing));
        streams.setStateListener((newState, oldState) -> {
            LOG.info("Kafka Streams {} -> {}", oldState, newState);
            if (newState == KafkaStreams.State.NOT_RUNNING || newState == KafkaStreams.State.ERROR) {
                stopped.countDown();
            }
        });
        profileCatchUp.start(adminConfig());
        LOG.info("Settings (later layers win: default, file, environment, flag):{}", config.summary());
        LOG.info("Starting cohort-sync: {} Kafka at {}, schema registry {}, topics {}*, processing {}",
            broker != null ? "embedded" : "external", bootstrapServers, describeRegistry(), config.topicPrefix(),
            config.processingGuarantee());
        streams.start();
        // After the topics exist; null when export.enabled is false or no account has an export section.
        exporter = io.cohortsync.export.AmplitudeExporter.start(config, bootstrapServers, topics, metrics.registry());
        if (exporter != null) {
            http.watchExporter(exporter::failure);
        }
    }

    /**
     * Registers the schemas of every topic the service writes before anything is written, so no later write needs
     * the registry: through a registry outage, records whose schemas are cached keep flowing, the first dead letter or
     * sync report included. A registry that cannot be reached now is not fatal: each schema is then registered on its
     * first write, which waits for the registry (retried, never dead-lettered). One that answers "no" is: refused
     * credentials, a URL that is not the registry's API, or a schema it will not take would fail every write.
     */
    private void registerWrittenSchemas() {
        try {
            topics.registerWrittenSchemas();
        } catch (final SchemaRegistryRefusedException e) {
            throw new StartupException("The schema registry " + config.schemaRegistryUrlForLogs() + " refused "
                + "cohort-sync's settings: " + e.getMessage(), e);
        } catch (final SchemaRegistryUnavailableException e) {
            LOG.warn("Could not register the output schemas with schema registry {} at start ({}); each is registered on "
                + "its first write instead", config.schemaRegistryUrlForLogs(), e.getMessage());
        } catch (final SerializationException e) {
            throw new StartupException("The schema registry " + config.schemaRegistryUrlForLogs() + " does not take "
                + "the schemas cohort-sync writes, so every write would fail: " + e.getMessage(), e);
        }
    }

    private String describeRegistry() {
        return registryServer != null ? config.schemaRegistryUrl() + " (served at " + registryServer.url() + ")"
            : config.schemaRegistryUrlForLogs();
    }

    public Map<String, Object> adminConfig() {
        final Map<String, Object> admin = new HashMap<>(config.kafkaPassThrough());
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return admin;
    }

    public boolean awaitRunning(final Duration timeout) throws InterruptedException {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (streams.state() == KafkaStreams.State.RUNNING) {
                return true;
            }
            if (stopped.await(100, TimeUnit.MILLISECONDS)) {
                return false;
            }
        }
        return false;
    }

    /** Blocks until the service stops (Ctrl-C, or Kafka Streams reaching ERROR). */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    public KafkaStreams streams() {
        return streams;
    }

    public Topics topics() {
        return topics;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public String schemaRegistryUrl() {
        return registryServer != null ? registryServer.url() : config.schemaRegistryUrl();
    }

    public CohortSyncConfig config() {
        return config;
    }

    /** The HTTP port actually bound (http.port, or the free one picked for 0). */
    public int httpPort() {
        return http.port();
    }

    /** The Amplitude exporter, or null when it is not running (export disabled, or no account exports). */
    public io.cohortsync.export.AmplitudeExporter exporter() {
        return exporter;
    }

    public CohortSyncHttpServer http() {
        return http;
    }

    @Override
    public void close() {
        LOG.info("Stopping cohort-sync");
        closing.countDown();
        // Ingress first: a webhook call now gets a refused connection, and Amplitude retries it later.
        closeQuietly(http);
        // The exporter waits (bounded) for Amplitude's answers in flight and commits what they finished.
        closeQuietly(exporter);
        streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
            .withTimeout(CLOSE_TIMEOUT));
        streamsMetrics.close();
        profileCatchUp.close();
        if (broker != null) {
            EmbeddedConnection.delete(config.embeddedDataDir());
        }
        closeQuietly(registryServer, broker);
        stopped.countDown();
    }

    private static String mockScope(final CohortSyncConfig config) {
        return config.schemaRegistryUrl().substring("mock://".length());
    }

    private static void closeQuietly(final AutoCloseable... resources) {
        for (final AutoCloseable resource : resources) {
            if (resource == null) {
                continue;
            }
            try {
                resource.close();
            } catch (final Exception e) {
                LOG.warn("Error while closing {}: {}", resource, e.toString());
            }
        }
    }
}
