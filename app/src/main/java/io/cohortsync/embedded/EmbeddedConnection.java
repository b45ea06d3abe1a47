package io.cohortsync.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
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

    public static void delete(final Path dataDir) {
        try {
            Files.deleteIfExists(dataDir.resolve(FILE_NAME));
        } catch (final IOException e) {
            // Best effort: a stale file only makes a client command fail to connect, with a clear error.
        }
    }
}
