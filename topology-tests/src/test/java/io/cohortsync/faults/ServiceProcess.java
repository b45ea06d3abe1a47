package io.cohortsync.faults;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * cohort-sync as its users run it: {@code java -jar app/target/cohort-sync.jar run --config FILE} in a child JVM,
 * so that {@link #kill()} is a real hard kill (SIGKILL: no shutdown hook, no commit, no leave-group), the way Kafka's
 * own exactly-once system tests kill their application. Output goes to a log file that {@link SecretScan} reads.
 */
final class ServiceProcess implements AutoCloseable {

    private static final Pattern HTTP_BOUND = Pattern.compile("HTTP on [^ ]+:(\\d+) \\(");
    private static final Logger LOG = LoggerFactory.getLogger(ServiceProcess.class);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String name;
    private final Process process;
    private final Path log;
    private final long logStart;
    /** The HTTP port the process bound (http.port=0), read from its log once it is there; 0 before. */
    private volatile int httpPort;

    private ServiceProcess(final String name, final Process process, final Path log, final long logStart) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.logStart = logStart;
    }

    /**
     * Starts {@code run --config configFile} with {@code http.port=0}, output appended to log. The process binds a
     * port of its own choosing and logs it: a port picked here and bound seconds later by the child could be taken
     * meanwhile.
     */
    static ServiceProcess start(final String name, final Path configFile, final Path log) {
        final List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx768m", "-jar", applicationJar(),
            "run", "--config", configFile.toString(), "--set", "http.port=0"));
        try {
            Files.createDirectories(log.getParent());
            SecretScan.alsoScan(log);
            final long logStart = Files.exists(log) ? Files.size(log) : 0;
            final Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            LOG.info("Started {} (pid {}), output in {}", name, process.pid(), log);
            return new ServiceProcess(name, process, log, logStart);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + command, e);
        }
    }

    /** SIGKILL, and waits until the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " did not die after SIGKILL");
        }
        LOG.info("Killed {} (pid {})", name, process.pid());
    }

    /** Waits up to {@code time} for the process to exit on its own; true if it did (it should not). */
    boolean exitsWithin(final Duration time) throws InterruptedException {
        return process.waitFor(time.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean alive() {
        return process.isAlive();
    }

    /** GET /health/ready answered 200: Kafka Streams is RUNNING. */
    boolean ready() {
        if (httpPort == 0) {
            httpPort = boundPort();
            if (httpPort == 0) {
                return false;
            }
        }
        try {
            final HttpResponse<Void> response = HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + httpPort + "/health/ready")).timeout(Duration.ofSeconds(2))
                .build(), HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200;
        } catch (final IOException e) {
            return false;
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    String name() {
        return name;
    }

    /** A clean stop (SIGTERM: the shutdown hook closes Kafka Streams and leaves the group). */
    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String applicationJar() {
        final String jar = System.getProperty("cohort-sync.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("The application jar (system property cohort-sync.jar = " + jar
                + ") is missing; build it first: ./mvnw -pl app -am package (./mvnw verify does)");
        }
        return jar;
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** The port of this run's "HTTP on host:port" log line, or 0 while it is not written yet. */
    private int boundPort() {
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            if (file.length() <= logStart) {
                return 0;
            }
            final byte[] bytes = new byte[(int) Math.min(file.length() - logStart, 4 << 20)];
            file.seek(logStart);
            file.readFully(bytes);
            final Matcher bound = HTTP_BOUND.matcher(new String(bytes, StandardCharsets.UTF_8));
            return bound.find() ? Integer.parseInt(bound.group(1)) : 0;
        } catch (final IOException e) {
            return 0;
        }
    }
}
