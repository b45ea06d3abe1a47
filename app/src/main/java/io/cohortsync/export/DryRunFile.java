package io.cohortsync.export;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;

/**
 * The sink of an account without an API key: each request body it would send becomes one line of a newline-delimited
 * JSON file, {@code {"account":..,"url":..,"events":N,"body":{..the exact request body..}}}, and counts as accepted.
 */
public final class DryRunFile implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DryRunFile.class);

    private final Path file;
    private final OutputStream out;

    private DryRunFile(final Path file, final OutputStream out) {
        this.file = file;
        this.out = out;
    }

    /** Appends to the file (created with its directories when missing). */
    public static DryRunFile open(final Path file) {
        try {
            final Path absolute = file.toAbsolutePath();
            if (absolute.getParent() != null) {
                Files.createDirectories(absolute.getParent());
            }
            return new DryRunFile(absolute, Files.newOutputStream(absolute, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, StandardOpenOption.WRITE));
        } catch (final IOException e) {
            throw new IllegalStateException("cannot open the dry-run export file " + file.toAbsolutePath() + " (set "
                + "export.dry-run-file, or give the accounts an api-key): " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    /** The sink of one account: its lines name the account. */
    public AmplitudeSink forAccount(final String accountId) {
        return (url, body, events) -> write(accountId, url, body, events);
    }

    private synchronized CompletableFuture<AmplitudeResponse> write(final String accountId, final URI url,
                                                                    final byte[] body, final int events) {
        try {
            out.write(("{\"account\":\"" + jsonEscape(accountId) + "\",\"url\":\"" + url + "\",\"events\":" + events
                + ",\"body\":").getBytes(StandardCharsets.UTF_8));
            out.write(body);
            out.write("}\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            return CompletableFuture.completedFuture(AmplitudeResponse.of(200,
                "{\"code\":200,\"events_ingested\":" + events + ",\"payload_size_bytes\":" + body.length + "}"));
        } catch (final IOException e) {
            LOG.warn("Cannot write the dry-run export file {}: {}; will retry", file, e.toString());
            return CompletableFuture.completedFuture(AmplitudeResponse.failed(e, false));
        }
    }

    private static String jsonEscape(final String text) {
        return text.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (final IOException e) {
            LOG.warn("Error closing {}: {}", file, e.toString());
        }
    }
}
