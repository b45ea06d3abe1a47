package io.cohortsync.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;

import io.cohortsync.runtime.Causes;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node KRaft Kafka (combined broker and controller) running inside this JVM, the service's default when no
 * Kafka cluster is configured.
 *
 * <p>Everything it needs survives in {@code dataDir}: the formatted storage (with the cluster id in
 * {@code kafka-logs/meta.properties}) and the two ports it listened on ({@code embedded-broker.properties}), so a restart on the
 * same directory comes back on the same address and the Streams app and any client reconnect to the same data.
 *
 * <p>Caveat: {@link KafkaRaftServer} installs Kafka's own fault handlers, so a fatal fault inside the broker or
 * controller (say, an unreadable metadata log at runtime) halts this JVM through Kafka's {@code Exit.halt}, as it would
 * a standalone broker. Start failures such as a taken port are thrown as exceptions instead.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    private static final String PORTS_FILE = "embedded-broker.properties";
    private static final String LOG_DIR_NAME = "kafka-logs";
    private static final String PORT_KEY = "port";
    private static final String CONTROLLER_PORT_KEY = "controller.port";
    private static final String HOST = "127.0.0.1";
    private static final int NODE_ID = 1;
    private static final String BROKER_LISTENER = "PLAINTEXT";
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final String META_PROPERTIES = "meta.properties";

    private static final int MIB = 1024 * 1024;
    // A laptop, not a data centre: closed segments are what compaction and retention act on, so 16 MiB segments let
    // compacted changelogs and the internal topics shrink at this data size, and each partition of a deleting topic
    // keeps at most 1 GiB (a 4-partition topic 4 GiB) for at most the usual 7 days.
    private static final int SEGMENT_BYTES = 16 * MIB;
    private static final long RETENTION_BYTES_PER_PARTITION = 1024L * MIB;
    private static final int RETENTION_HOURS = 168;
    // The cleaner's dedupe buffer is heap in the service's own JVM; Kafka's 128 MiB default is sized for a dedicated box.
    private static final int CLEANER_DEDUPE_BUFFER_BYTES = 16 * MIB;
    // One node serves few groups and transactional ids; Kafka's 50 partitions per internal topic only cost startup
    // time and files here. Fixed at the first start: these topics are created once and never resized.
    private static final int INTERNAL_TOPIC_PARTITIONS = 4;
    // Fail a start that cannot finish (say, a damaged metadata log) instead of hanging the service forever.
    private static final long MAX_STARTUP_MILLIS = 120_000L;

    private final KafkaRaftServer server;
    private final Path dataDir;
    private final int port;
    private final AtomicBoolean closed = new AtomicBoolean(false);

    private EmbeddedKafkaBroker(final KafkaRaftServer server, final Path dataDir, final int port) {
        this.server = server;
        this.dataDir = dataDir;
        this.port = port;
    }

    /**
     * Starts the broker and returns once it accepts clients.
     *
     * @param dataDir where the storage and the ports file live; created if missing, formatted only if not yet
     * @param port    the client port on 127.0.0.1; 0 reuses the port of the previous run on {@code dataDir}, or picks
     *                a free one on the first run
     * @throws IllegalStateException if a port is taken or the broker fails to start
     */
    public static EmbeddedKafkaBroker start(final Path dataDir, final int port) {
        Objects.requireNonNull(dataDir, "dataDir");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
        final Path dir = dataDir.toAbsolutePath().normalize();
        createDirectories(dir);
        final Ports ports = Ports.resolve(dir, port);
        ensureFree(ports.broker(), "client", dir);
        ensureFree(ports.controller(), "controller", dir);
        ports.store(dir);

        final KafkaConfig config = new KafkaConfig(serverProperties(dir, ports), false);
        formatIfNeeded(dir);
        final KafkaRaftServer server = startServer(config, ports, dir);
        final EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(server, dir, ports.broker());
        LOG.info("Embedded Kafka broker ready at {} (data dir {})", broker.bootstrapServers(), dir);
        return broker;
    }

    /** The address clients and the Streams app use: {@code 127.0.0.1:<port>}. */
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Shuts the broker down cleanly and waits for it; a second call does nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            server.shutdown();
            server.awaitShutdown();
            LOG.info("Embedded Kafka broker at {} stopped", bootstrapServers());
        }
    }

    private static Map<String, String> serverProperties(final Path dir, final Ports ports) {
        final Map<String, String> props = new HashMap<>();
        props.putAll(nodeProperties(dir, ports));
        props.putAll(singleNodeProperties());
        props.putAll(laptopStorageProperties());
        return props;
    }

    private static Map<String, String> nodeProperties(final Path dir, final Ports ports) {
        final Map<String, String> props = new HashMap<>();
        props.put("process.roles", "broker,controller");
        props.put("node.id", String.valueOf(NODE_ID));
        // A static one-voter quorum: the controller port never changes because it is kept in the ports file.
        props.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + ports.controller());
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("listeners", BROKER_LISTENER + "://" + HOST + ":" + ports.broker() + ","
                + CONTROLLER_LISTENER + "://" + HOST + ":" + ports.controller());
        props.put("advertised.listeners", BROKER_LISTENER + "://" + HOST + ":" + ports.broker());
        props.put("listener.security.protocol.map", BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("inter.broker.listener.name", BROKER_LISTENER);
        props.put("log.dirs", logDir(dir).toString());
        props.put("server.max.startup.time.ms", String.valueOf(MAX_STARTUP_MILLIS));
        return props;
    }

    // With one broker every replication factor and min ISR must be 1, or the internal topics (consumer offsets,
    // transaction state for exactly_once_v2, share-group state) can never be created. Tiered storage is off, so the
    // remote-log metadata topic is never created and needs no override.
    private static Map<String, String> singleNodeProperties() {
        final Map<String, String> props = new HashMap<>();
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", String.valueOf(INTERNAL_TOPIC_PARTITIONS));
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", String.valueOf(INTERNAL_TOPIC_PARTITIONS));
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("share.coordinator.state.topic.num.partitions", String.valueOf(INTERNAL_TOPIC_PARTITIONS));
        props.put("min.insync.replicas", "1");
        props.put("default.replication.factor", "1");
        props.put("num.partitions", "4");
        // Nobody else joins late on a one-app broker; waiting the default 3 s only delays every Streams start.
        props.put("group.initial.rebalance.delay.ms", "0");
        // Topics come from the app's explicit creation; a typo'd topic name must fail, not appear.
        props.put("auto.create.topics.enable", "false");
        return props;
    }

    private static Map<String, String> laptopStorageProperties() {
        final Map<String, String> props = new HashMap<>();
        props.put("log.segment.bytes", String.valueOf(SEGMENT_BYTES));
        props.put("log.retention.hours", String.valueOf(RETENTION_HOURS));
        props.put("log.retention.bytes", String.valueOf(RETENTION_BYTES_PER_PARTITION));
        props.put("offsets.topic.segment.bytes", String.valueOf(SEGMENT_BYTES));
        props.put("transaction.state.log.segment.bytes", String.valueOf(SEGMENT_BYTES));
        props.put("share.coordinator.state.topic.segment.bytes", String.valueOf(SEGMENT_BYTES));
        props.put("log.cleaner.dedupe.buffer.size", String.valueOf(CLEANER_DEDUPE_BUFFER_BYTES));
        return props;
    }

    private static Path logDir(final Path dir) {
        return dir.resolve(LOG_DIR_NAME);
    }

    private static void formatIfNeeded(final Path dir) {
        final Path logDir = logDir(dir);
        if (Files.exists(logDir.resolve(META_PROPERTIES))) {
            return;
        }
        final String clusterId = Uuid.randomUuid().toString();
        try {
            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setNodeId(NODE_ID)
                    .setClusterId(clusterId)
                    .setDirectories(List.of(logDir.toString()))
                    .setMetadataLogDirectory(logDir.toString())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .run();
        } catch (final Exception e) {
            throw new IllegalStateException("Could not format Kafka storage in " + logDir + ": " + e.getMessage(), e);
        }
        LOG.debug("Formatted Kafka storage in {} for cluster {}", logDir, clusterId);
    }

    private static KafkaRaftServer startServer(final KafkaConfig config, final Ports ports, final Path dir) {
        final KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        try {
            server.startup();
            return server;
        } catch (final RuntimeException e) {
            shutDownQuietly(server);
            if (Causes.has(e, BindException.class)) {
                throw new IllegalStateException("Cannot start the embedded Kafka broker for data dir " + dir + ": port "
                        + ports.broker() + " or controller port " + ports.controller() + " on " + HOST
                        + " is already in use", e);
            }
            throw new IllegalStateException("Embedded Kafka broker failed to start on " + HOST + ":" + ports.broker()
                    + " with data dir " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void shutDownQuietly(final KafkaRaftServer server) {
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (final RuntimeException suppressed) {
            LOG.warn("Error shutting down a broker that failed to start", suppressed);
        }
    }

    // Kafka's own bind error surfaces only after the controller has started; checking first gives a clear message.
    private static void ensureFree(final int port, final String role, final Path dir) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
        } catch (final IOException e) {
            throw new IllegalStateException("Cannot start the embedded Kafka broker for data dir " + dir + ": "
                    + role + " port " + port + " on " + HOST + " is already in use", e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        } catch (final IOException e) {
            throw new UncheckedIOException("No free port on " + HOST, e);
        }
    }

    private static void createDirectories(final Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (final IOException e) {
            throw new UncheckedIOException("Cannot create the embedded Kafka data dir " + dir, e);
        }
    }

    /** The client and controller ports, kept in the data dir so a restart comes back on the same address. */
    private record Ports(int broker, int controller) {

        static Ports resolve(final Path dir, final int requestedPort) {
            final Properties previous = load(dir.resolve(PORTS_FILE));
            final int storedBroker = portOr(previous, PORT_KEY, 0);
            final int storedController = portOr(previous, CONTROLLER_PORT_KEY, 0);
            final int broker = requestedPort != 0 ? requestedPort : storedBroker != 0 ? storedBroker : freePort();
            if (storedController != 0 && storedController == broker) {
                throw new IllegalArgumentException("Port " + broker + " is the controller port of the embedded Kafka "
                        + "broker in data dir " + dir + "; choose another client port");
            }
            final int controller = storedController != 0 ? storedController : freePortOtherThan(broker);
            return new Ports(broker, controller);
        }

        private static int freePortOtherThan(final int taken) {
            final int port = freePort();
            return port != taken ? port : freePortOtherThan(taken);
        }

        void store(final Path dir) {
            final Properties props = new Properties();
            props.setProperty(PORT_KEY, Integer.toString(broker));
            props.setProperty(CONTROLLER_PORT_KEY, Integer.toString(controller));
            final Path file = dir.resolve(PORTS_FILE);
            final Path tmp = dir.resolve(PORTS_FILE + ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                props.store(out, "Ports of the embedded Kafka broker; reused on restart so clients reconnect");
            } catch (final IOException e) {
                throw new UncheckedIOException("Cannot write " + tmp, e);
            }
            try {
                // Atomic so a crash mid-write never leaves a half file that loses the ports.
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (final IOException e) {
                throw new UncheckedIOException("Cannot write " + file, e);
            }
        }

        private static Properties load(final Path file) {
            final Properties props = new Properties();
            if (Files.exists(file)) {
                try (InputStream in = Files.newInputStream(file)) {
                    props.load(in);
                } catch (final IOException e) {
                    throw new UncheckedIOException("Cannot read " + file, e);
                }
            }
            return props;
        }

        private static int portOr(final Properties props, final String key, final int fallback) {
            final String value = props.getProperty(key);
            if (value == null || value.isBlank()) {
                return fallback;
            }
            try {
                return Integer.parseInt(value.trim());
            } catch (final NumberFormatException e) {
                throw new IllegalStateException("Bad " + key + " '" + value + "' in " + PORTS_FILE, e);
            }
        }
    }
}
