package io.cohortsync.export;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;

/**
 * The sink of an account without an API key: each request body it would send becomes one line of a newline-delimited
 * JSON file, {@code {"account":..,"url":..,"events":N,"body":{..the exact request body..}}}, and counts as accepted.
 *
 * <p>Every exported event is written, so the file grows with the traffic (about 30 MB a minute at 1,500 events/s)
 * and a dry run left going for weeks would fill its disk. Once a line would take it over {@link #MAX_BYTES}, the file
 * becomes {@code <file>.1} (replacing the one before) and a new file begins: at most twice the limit is kept.
 */
public final class DryRunFile implements AutoCloseable {

    /** The largest the file gets before it rolls over to {@code <file>.1}. */
    public static final long MAX_BYTES = 256L * 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(DryRunFile.class);

    private final Path file;
    private final Path previous;
    private final long maxBytes;
    private OutputStream out;
    private long size;

    private DryRunFile(final Path file, final long maxBytes) throws IOException {
        this.file = file;
        this.previous = file.resolveSibling(file.getFileName() + ".1");
        this.maxBytes = maxBytes;
        this.out = append(file);
        this.size = Files.size(file);
    }

    /** Appends to the file (created with its directories when missing). */
    public static DryRunFile open(final Path file) {
        return open(file, MAX_BYTES);
    }

    static DryRunFile open(final Path file, final long maxBytes) {
        try {
            final Path absolute = file.toAbsolutePath();
            if (absolute.getParent() != null) {
                Files.createDirectories(absolute.getParent());
            }
            return new DryRunFile(absolute, maxBytes);
        } catch (final IOException e) {
            throw new IllegalStateException("cannot open the dry-run export file " + file.toAbsolutePath() + " (set "
                + "export.dry-run-file, or give the accounts an api-key): " + e.getMessage(), e);
        }
    }

    private static OutputStream append(final Path file) throws IOException {
        return Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
            StandardOpenOption.WRITE);
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
        final byte[] head = ("{\"account\":\"" + jsonEscape(accountId) + "\",\"url\":\"" + url + "\",\"events\":"
            + events + ",\"body\":").getBytes(StandardCharsets.UTF_8);
        final byte[] tail = "}\n".getBytes(StandardCharsets.UTF_8);
        try {
            final long lineBytes = head.length + body.length + tail.length;
            if (size > 0 && size + lineBytes > maxBytes) {
                rollOver();
            }
            out.write(head);
            out.write(body);
            out.write(tail);
            out.flush();
            size += lineBytes;
            return CompletableFuture.completedFuture(AmplitudeResponse.of(200,
                "{\"code\":200,\"events_ingested\":" + events + ",\"payload_size_bytes\":" + body.length + "}"));
        } catch (final IOException e) {
            LOG.warn("Cannot write the dry-run export file {}: {}; will retry", file, e.toString());
            return CompletableFuture.completedFuture(AmplitudeResponse.failed(e, false));
        }
    }

    /** A line is never split: the whole file moves to {@code <file>.1} and the next line starts a new one. */
    private void rollOver() throws IOException {
        out.close();
        Files.move(file, previous, StandardCopyOption.REPLACE_EXISTING);
        out = append(file);
        size = 0;
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
