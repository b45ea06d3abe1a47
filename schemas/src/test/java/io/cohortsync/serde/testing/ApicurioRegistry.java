package io.cohortsync.serde.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a real Apicurio Registry 3 (its Quarkus app from Maven Central, unpacked by the build) as a child process,
 * for tests against its Confluent-compatible API. Typical use, once per test class:
 *
 * <pre>{@code
 * static ApicurioRegistry registry;
 * @BeforeAll static void start() { registry = ApicurioRegistry.startNew(); }
 * @AfterAll static void stop() { registry.close(); }
 * ... Map.of("schema.registry.url", registry.ccompatUrl()) ...
 * }</pre>
 *
 * <p>Storage is H2 in a file under {@code target/apicurio-runs/}, so {@link #stop()} then {@link #start()} (same
 * ports) behaves like a registry outage: schemas and ids survive it. The log goes to {@link #logFile()}.
 *
 * <p><b>Where the app is.</b> The {@value #HOME_PROPERTY} system property names the unpacked directory (the one
 * holding {@code quarkus-run.jar}); without it, {@code target/apicurio}, {@code schemas/target/apicurio} and
 * {@code ../schemas/target/apicurio} are tried relative to the working directory. Another module reuses this
 * class through the schemas test-jar and either unpacks the app itself (copy the {@code maven-dependency-plugin}
 * {@code unpack-apicurio-registry} execution of {@code schemas/pom.xml}) and sets
 * {@code <apicurio.home>${project.build.directory}/apicurio</apicurio.home>} in surefire's
 * {@code systemPropertyVariables}, or sets it to {@code ${project.basedir}/../schemas/target/apicurio} when the
 * schemas module has been built first in the same checkout.
 *
 * <p><b>Java.</b> Apicurio 3 needs Java 21+, found without hard-coded paths (see {@link JavaHomes}); set
 * {@code APICURIO_JAVA_HOME} to choose one. Missing Java 21 fails the test with install hints; it is never skipped.
 */
public final class ApicurioRegistry implements AutoCloseable {

    public static final String HOME_PROPERTY = "apicurio.home";
    public static final int MIN_JAVA = 21;

    private static final Logger LOG = LoggerFactory.getLogger(ApicurioRegistry.class);
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(250);
    private static final int LOG_TAIL_LINES = 60;
    private static final String LOOPBACK = "127.0.0.1";

    private final Path home;
    private final Path java;
    private final Path runDir;
    private final int httpPort;
    private final int managementPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Thread shutdownHook = new Thread(this::destroyProcessTree, "apicurio-registry-shutdown");
    private Process process;
    private boolean hookInstalled;

    /** Locates the app and a Java 21+, picks free ports; nothing runs until {@link #start()}. */
    public ApicurioRegistry() {
        this.home = locateHome();
        this.java = JavaHomes.ofThisMachine().javaExecutable(MIN_JAVA);
        this.httpPort = freePort();
        this.managementPort = freePort();
        this.runDir = createRunDir(httpPort);
    }

    /** A started registry; close it when done. */
    public static ApicurioRegistry startNew() {
        final ApicurioRegistry registry = new ApicurioRegistry();
        registry.start();
        return registry;
    }

    /** Starts the app (again) on this instance's port and waits until its ccompat API answers. */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        final Instant begin = Instant.now();
        process = launch();
        installShutdownHook();
        awaitReady(begin);
        LOG.info("Apicurio Registry up at {} in {} ms (log: {})", baseUrl(), Duration.between(begin, Instant.now())
                .toMillis(), logFile());
    }

    /** Stops the app gracefully (forcibly after 30 s); the port is free again when this returns. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        destroyProcessTree();
        process = null;
        LOG.info("Apicurio Registry at {} stopped", baseUrl());
    }

    @Override
    public synchronized void close() {
        stop();
        if (hookInstalled) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (final IllegalStateException e) {
                // The JVM is already shutting down; the hook runs anyway and finds nothing to do.
            }
            hookInstalled = false;
        }
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** The Confluent-compatible API, for {@code schema.registry.url}. */
    public String ccompatUrl() {
        return baseUrl() + "/apis/ccompat/v7";
    }

    /** The root URL, e.g. for Apicurio's own {@code /apis/registry/v3} API. */
    public String baseUrl() {
        return "http://" + LOOPBACK + ':' + httpPort;
    }

    public int port() {
        return httpPort;
    }

    public Path logFile() {
        return runDir.resolve("apicurio.log");
    }

    /** The last lines of the log, for failure messages. */
    public String logTail() {
        try (Stream<String> lines = Files.lines(logFile(), StandardCharsets.UTF_8)) {
            final List<String> all = lines.toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - LOG_TAIL_LINES), all.size()));
        } catch (final IOException | UncheckedIOException e) {
            return "(no log at " + logFile() + ": " + e.getMessage() + ')';
        }
    }

    @Override
    public String toString() {
        return "ApicurioRegistry[" + baseUrl() + ", home=" + home + ", java=" + java + ']';
    }

    private Process launch() {
        final ProcessBuilder builder = new ProcessBuilder(java.toString(), "-Xmx512m", "-XX:+UseSerialGC",
                // Startup dominates a test registry's life: C1 only, and a class-data archive the first run
                // writes and later runs reuse (regenerated by the JVM if the JDK or app changes) halve it.
                "-XX:TieredStopAtLevel=1", "-XX:+AutoCreateSharedArchive",
                "-XX:SharedArchiveFile=" + runDir.getParent().resolve("apicurio-cds.jsa"),
                "-Djava.io.tmpdir=" + runDir, "-jar", home.resolve("quarkus-run.jar").toString())
                .directory(runDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
        builder.environment().putAll(environment());
        try {
            return builder.start();
        } catch (final IOException e) {
            throw new UncheckedIOException("Could not run " + java + " -jar " + home.resolve("quarkus-run.jar"), e);
        }
    }

    private Map<String, String> environment() {
        return Map.of(
                "QUARKUS_HTTP_HOST", LOOPBACK,
                "QUARKUS_HTTP_PORT", String.valueOf(httpPort),
                // The management interface (health, metrics) is built in and listens on 0.0.0.0:9000 by default.
                "QUARKUS_MANAGEMENT_HOST", LOOPBACK,
                "QUARKUS_MANAGEMENT_PORT", String.valueOf(managementPort),
                // The default is an in-memory H2 that a restart would wipe; a file survives a simulated outage.
                "APICURIO_DATASOURCE_URL", "jdbc:h2:file:" + runDir.toAbsolutePath().resolve("db/registry"),
                "APICURIO_DATASOURCE_JDBC_INITIAL_SIZE", "2",
                "APICURIO_DATASOURCE_JDBC_MIN_SIZE", "2",
                "APICURIO_STORAGE_SNAPSHOT_LOCATION", runDir.toAbsolutePath().toString(),
                "APICURIO_IMPORT_WORK_DIR", runDir.toAbsolutePath().toString());
    }

    private void awaitReady(final Instant begin) {
        final Instant deadline = begin.plus(STARTUP_TIMEOUT);
        final HttpRequest probe = HttpRequest.newBuilder(URI.create(ccompatUrl() + "/subjects"))
                .timeout(Duration.ofSeconds(5))
                .GET()
                .build();
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw failure("exited with code " + process.exitValue() + " before answering");
            }
            if (answers200(probe)) {
                return;
            }
            sleep(POLL_INTERVAL);
        }
        destroyProcessTree();
        throw failure("did not answer GET " + probe.uri() + " with 200 within " + STARTUP_TIMEOUT.toSeconds() + " s");
    }

    private boolean answers200(final HttpRequest probe) {
        try {
            return http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (final IOException e) {
            return false;
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for Apicurio Registry", e);
        }
    }

    private IllegalStateException failure(final String what) {
        process = null;
        return new IllegalStateException("Apicurio Registry (" + java + " -jar " + home.resolve("quarkus-run.jar")
                + ", port " + httpPort + ") " + what + ". Log " + logFile() + " ends with:\n" + logTail());
    }

    private void destroyProcessTree() {
        final Process running = process;
        if (running == null) {
            return;
        }
        final List<ProcessHandle> tree = new ArrayList<>(running.descendants().toList());
        tree.add(running.toHandle());
        tree.forEach(ProcessHandle::destroy);
        try {
            if (!running.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("Apicurio Registry did not stop within {} s; killing it", STOP_TIMEOUT.toSeconds());
                tree.forEach(ProcessHandle::destroyForcibly);
                running.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (final InterruptedException e) {
            tree.forEach(ProcessHandle::destroyForcibly);
            Thread.currentThread().interrupt();
        }
    }

    private void installShutdownHook() {
        // A crashed or killed test JVM must not leave a registry holding the port.
        if (!hookInstalled) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
            hookInstalled = true;
        }
    }

    private static Path locateHome() {
        final String configured = System.getProperty(HOME_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return quarkusAppIn(Path.of(configured)).orElseThrow(() -> new IllegalStateException(
                    "System property " + HOME_PROPERTY + "=" + configured + " has no quarkus-run.jar; "
                            + "was apicurio-registry-app-*-all.tar.gz unpacked there?"));
        }
        final List<Path> candidates = List.of(Path.of("target/apicurio"), Path.of("schemas/target/apicurio"),
                Path.of("../schemas/target/apicurio"));
        return candidates.stream()
                .map(ApicurioRegistry::quarkusAppIn)
                .flatMap(Optional::stream)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("Apicurio Registry app not found: set system property "
                        + HOME_PROPERTY + " to the directory holding quarkus-run.jar, or build the schemas module "
                        + "first (./mvnw -pl schemas process-test-resources unpacks it to schemas/target/apicurio). "
                        + "Tried " + candidates.stream().map(Path::toAbsolutePath).toList()));
    }

    /** The directory holding quarkus-run.jar: {@code dir} itself or one level down (e.g. a versioned folder). */
    private static Optional<Path> quarkusAppIn(final Path dir) {
        if (Files.isRegularFile(dir.resolve("quarkus-run.jar"))) {
            return Optional.of(dir.toAbsolutePath().normalize());
        }
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> children = Files.list(dir)) {
            return children.filter(child -> Files.isRegularFile(child.resolve("quarkus-run.jar")))
                    .map(child -> child.toAbsolutePath().normalize())
                    .findFirst();
        } catch (final IOException e) {
            return Optional.empty();
        }
    }

    private static Path createRunDir(final int port) {
        final Path dir = Path.of("target", "apicurio-runs", "registry-" + port + '-' + System.currentTimeMillis());
        try {
            return Files.createDirectories(dir).toAbsolutePath();
        } catch (final IOException e) {
            throw new UncheckedIOException("Could not create " + dir.toAbsolutePath(), e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            return socket.getLocalPort();
        } catch (final IOException e) {
            throw new UncheckedIOException("No free port on " + LOOPBACK, e);
        }
    }

    private static void sleep(final Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for Apicurio Registry", e);
        }
    }
}
