package io.cohortsync.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;

/**
 * Where a running embedded service can be reached: written by {@code run} into the embedded data directory and
 * read by the CLI's client commands, so {@code produce-sample} and {@code inspect} need no flags on a laptop.
 */
public record EmbeddedConnection(String bootstrapServers, String schemaRegistryUrl) {

    private static final String FILE_NAME = "connection.properties";

    public void writeTo(final Path dataDir) throws IOException {
        final Properties props = new Properties();
        props.setProperty("bootstrap.servers", bootstrapServers);
        props.setProperty("schema.registry.url", schemaRegistryUrl);
        Files.createDirectories(dataDir);
        try (OutputStream out = Files.newOutputStream(dataDir.resolve(FILE_NAME))) {
            props.store(out, "written by cohort-sync run (embedded mode); read by the CLI's client commands");
        }
    }

    public static Optional<EmbeddedConnection> readFrom(final Path dataDir) {
        final Path file = dataDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        final Properties props = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            props.load(in);
        } catch (final IOException e) {
            return Optional.empty();
        }
        return Optional.of(new EmbeddedConnection(props.getProperty("bootstrap.servers"),
            props.getProperty("schema.registry.url")));
    }

    /**
     * Whether something listens at the broker's address. After a hard kill of {@code run} this file stays behind,
     * and a client given its address would wait a minute for a broker that is gone.
     */
    public boolean brokerListening(final Duration connectTimeout) {
        final String address = bootstrapServers == null ? "" : bootstrapServers.split(",")[0].trim();
        final int colon = address.lastIndexOf(':');
        if (colon <= 0 || !address.substring(colon + 1).matches("\\d{1,5}")) {
            return false;
        }
        final int port = Integer.parseInt(address.substring(colon + 1));
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address.substring(0, colon), port), (int) connectTimeout.toMillis());
            return true;
        } catch (final IOException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The file this connection is read from, for messages. */
    public static Path file(final Path dataDir) {
        return dataDir.resolve(FILE_NAME);
    }

    public static void delete(final Path dataDir) {
        try {
            Files.deleteIfExists(dataDir.resolve(FILE_NAME));
        } catch (final IOException e) {
            // Best effort: a stale file only makes a client command fail to connect, with a clear error.
        }
    }
}
