package io.cohortsync.faults;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Captures every log line (message and stack trace) written while a test class runs, plus any file registered with
 * {@link #alsoScan} (a child process's output) and any text passed to {@link #assertNoSecret}; after the class, fails
 * if any of {@link FaultSecrets#all()} appears in them. Use as {@code @ExtendWith(SecretScan.class)}.
 */
public final class SecretScan implements BeforeAllCallback, AfterAllCallback {

    private static final ConcurrentLinkedQueue<Path> EXTRA_FILES = new ConcurrentLinkedQueue<>();

    private Capture capture;

    /** Adds a file (a child process's stdout and stderr, say) to the scan at the end of the current test class. */
    public static void alsoScan(final Path file) {
        EXTRA_FILES.add(file);
    }

    /** Fails now if the text (an HTTP error body, an exception message) contains a secret. */
    public static void assertNoSecret(final String where, final String text) {
        for (final String secret : FaultSecrets.all()) {
            assertThat(text).as("a secret in %s", where).doesNotContain(secret);
        }
    }

    @Override
    public void beforeAll(final ExtensionContext context) {
        start();
    }

    @Override
    public void afterAll(final ExtensionContext context) {
        stopAndVerify(context.getDisplayName());
    }

    void start() {
        EXTRA_FILES.clear();
        capture = new Capture();
        capture.setContext(loggerContext());
        capture.start();
        rootLogger().addAppender(capture);
    }

    void stopAndVerify(final String suite) {
        rootLogger().detachAppender(capture);
        capture.stop();
        assertThat(capture.lines.get()).as("log lines captured by the secret scan").isPositive();
        final List<String> leaks = new ArrayList<>();
        for (final String line : capture.texts) {
            leaks.addAll(leaksIn("log", line));
        }
        for (final Path file : EXTRA_FILES) {
            leaks.addAll(leaksIn(file.toString(), read(file)));
        }
        EXTRA_FILES.clear();
        assertThat(leaks).as("secrets found in the logs of " + suite).isEmpty();
    }

    private static List<String> leaksIn(final String where, final String text) {
        final List<String> leaks = new ArrayList<>();
        for (final String secret : FaultSecrets.all()) {
            if (text.contains(secret)) {
                leaks.add(where + ": " + text.substring(0, Math.min(text.length(), 500)));
            }
        }
        return leaks;
    }

    private static String read(final Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static LoggerContext loggerContext() {
        return (LoggerContext) LoggerFactory.getILoggerFactory();
    }

    private static Logger rootLogger() {
        return loggerContext().getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    /** Keeps the formatted text of every event; the fault suites log a few thousand lines at most. */
    private static final class Capture extends AppenderBase<ILoggingEvent> {
        private final ConcurrentLinkedQueue<String> texts = new ConcurrentLinkedQueue<>();
        private final AtomicLong lines = new AtomicLong();

        @Override
        protected void append(final ILoggingEvent event) {
            lines.incrementAndGet();
            final String throwable = event.getThrowableProxy() == null ? ""
                : "\n" + ThrowableProxyUtil.asString(event.getThrowableProxy());
            texts.add(event.getLoggerName() + " " + event.getFormattedMessage() + throwable);
        }
    }
}
