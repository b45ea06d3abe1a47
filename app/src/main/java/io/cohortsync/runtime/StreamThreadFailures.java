package io.cohortsync.runtime;

import io.cohortsync.serde.SchemaRegistryUnavailableException;
import io.cohortsync.topology.StateFormatException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndFailProcessingExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What happens when a stream thread fails: it is always replaced ({@code REPLACE_THREAD}); under exactly_once_v2 its
 * open transaction is aborted and its records are processed again by the new thread, so nothing is lost, doubled or
 * dead-lettered by the failure itself.
 *
 * <p>A schema registry outage (a record written with a schema id this instance has not seen yet, while the registry
 * is down) is expected and transient, so it is handled apart: one warning line without a stack trace, naming the
 * registry URL (never its credentials) and the record, and the new thread starts only after a backoff (1 s, doubling
 * to 30 s per consecutive outage failure) instead of failing again at once against a registry that is still down.
 * While it waits, the failed thread's partitions wait too; with the default single stream thread, that is all of
 * them. Records whose schemas are cached keep flowing until such a record arrives.
 *
 * <p>Any other failure is replaced at once the first time. If failures follow each other (a record that fails the
 * same way on every attempt), each replacement waits the same backoff, so a failure that repeats costs a log line
 * every 30 s instead of a thread a few milliseconds, and its full stack trace is logged once per run of failures.
 */
public final class StreamThreadFailures implements StreamsUncaughtExceptionHandler {

    static final Duration FIRST_WAIT = Duration.ofSeconds(1);
    static final Duration MAX_WAIT = Duration.ofSeconds(30);
    private static final Logger LOG = LoggerFactory.getLogger(StreamThreadFailures.class);

    private final CountDownLatch closing;
    private final Duration firstWait;
    private final Duration maxWait;
    private final Streak outages = new Streak();
    private final Streak failures = new Streak();

    /** Failures in a row: one that comes more than twice the longest wait after the last starts a new streak. */
    private final class Streak {
        private int length;
        private long lastNanos;

        synchronized int next() {
            final long now = System.nanoTime();
            if (length > 0 && now - lastNanos > maxWait.multipliedBy(2).toNanos()) {
                length = 0;
            }
            lastNanos = now;
            return ++length;
        }
    }

    StreamThreadFailures(final CountDownLatch closing) {
        this(closing, FIRST_WAIT, MAX_WAIT);
    }

    StreamThreadFailures(final CountDownLatch closing, final Duration firstWait, final Duration maxWait) {
        this.closing = closing;
        this.firstWait = firstWait;
        this.maxWait = maxWait;
    }

    @Override
    public StreamThreadExceptionResponse handle(final Throwable error) {
        if (internalTopicOfTheWrongSize(error)) {
            return stopForGood(error);
        }
        final Optional<StateFormatException> otherVersionsState = stateFormat(error);
        if (otherVersionsState.isPresent()) {
            return stopOnOtherVersionsState(otherVersionsState.get());
        }
        final Optional<SchemaRegistryUnavailableException> outage = registryOutage(error);
        if (outage.isEmpty()) {
            // Transient failures (a broker restart, a fenced producer) must not stop the service either.
            return replaceAfterRepeatedFailure(error);
        }
        final int attempt = outages.next();
        final Duration wait = backoff(attempt);
        LOG.warn("Schema registry {} is unavailable ({}){}. The record is not dead-lettered or skipped: the stream "
                + "thread stops without committing, and a new thread retries it in {} s (retry {}; backing off up to {} s "
                + "while the registry stays down).", outage.get().url(), outage.get().getMessage(), where(error),
            wait.toMillis() / 1000.0, attempt, maxWait.toSeconds());
        awaitBackoff(wait);
        return StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    private StreamThreadExceptionResponse replaceAfterRepeatedFailure(final Throwable error) {
        final int attempt = failures.next();
        if (attempt == 1) {
            LOG.error("A stream thread failed; replacing it. Cause: {}", error.toString(), error);
            return StreamThreadExceptionResponse.REPLACE_THREAD;
        }
        final Duration wait = backoff(attempt - 1);
        LOG.error("A stream thread failed again ({} in a row{}); the next one starts in {} s. Cause: {}", attempt,
            where(error), wait.toMillis() / 1000.0, error.toString());
        awaitBackoff(wait);
        return StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    /**
     * Kafka Streams' assignor found an internal topic with another partition count than the topology needs (a source
     * topic given more partitions while running, say). Every rebalance fails the same way, while the state still says
     * RUNNING; stopping turns that into an ERROR the health check and the exit code report, and the next start's
     * check ({@link InternalTopicLayout}) names what changed.
     */
    private static StreamThreadExceptionResponse stopForGood(final Throwable error) {
        LOG.error("Kafka Streams cannot assign its tasks: {} A topic's partition count changed after the "
            + "application ran (README, \"Scaling and partition counts\"), which retrying cannot fix, so Kafka Streams "
            + "is stopping (ERROR: /health/live answers 503 and `run` exits 1)", messageOf(error));
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    }

    /**
     * A store value or repartition record in another format: state written by another cohort-sync version (an upgrade
     * that changed a format, or a rollback). Every retry of the record fails the same way, and the stream thread holds
     * every partition it owns meanwhile, while the state still says RUNNING; stopping makes it visible.
     */
    private static StreamThreadExceptionResponse stopOnOtherVersionsState(final StateFormatException error) {
        LOG.error("Kafka Streams is stopping: {}. Retrying cannot fix this (ERROR: /health/live answers 503 and `run` "
            + "exits 1); the partitions it owns would otherwise wait forever while the service reports RUNNING",
            error.getMessage());
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    }

    static Optional<StateFormatException> stateFormat(final Throwable error) {
        return Causes.chain(error).stream().filter(StateFormatException.class::isInstance)
            .map(StateFormatException.class::cast).findFirst();
    }

    static boolean internalTopicOfTheWrongSize(final Throwable error) {
        return messageOf(error).contains("has invalid partitions");
    }

    /** The deepest message in the cause chain: Kafka's own, not its wrappers'. */
    private static String messageOf(final Throwable error) {
        String message = "";
        for (final Throwable cause : Causes.chain(error)) {
            if (cause.getMessage() != null) {
                message = cause.getMessage();
            }
        }
        return message;
    }

    private void awaitBackoff(final Duration wait) {
        try {
            // Close() counts the latch down: a stopping service does not wait out the backoff.
            closing.await(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    Duration backoff(final int attempt) {
        final long millis = firstWait.toMillis() << Math.min(attempt - 1, 20);
        return Duration.ofMillis(Math.min(maxWait.toMillis(), millis));
    }

    /** The registry outage somewhere in the cause chain, if that is what failed. */
    static Optional<SchemaRegistryUnavailableException> registryOutage(final Throwable error) {
        return Causes.chain(error).stream().filter(SchemaRegistryUnavailableException.class::isInstance)
            .map(SchemaRegistryUnavailableException.class::cast).findFirst();
    }

    /** Kafka Streams' own description of the failed record (task, processor, topic, partition, offset), if any. */
    private static String where(final Throwable error) {
        for (Throwable cause = error; cause != null && !(cause instanceof SchemaRegistryUnavailableException);
             cause = cause.getCause()) {
            final String message = cause.getMessage();
            if (message != null && message.contains("taskId=")) {
                return " at " + message.substring(message.indexOf("taskId="));
            }
        }
        return "";
    }

    /**
     * Kafka Streams' default processing exception handler (log and fail), except that a registry outage is not
     * logged here with its stack trace: {@link StreamThreadFailures} logs it once, with what happens next.
     */
    public static final class ProcessingHandler extends LogAndFailProcessingExceptionHandler {

        @Override
        public Response handleError(final ErrorHandlerContext context, final Record<?, ?> record,
                                    final Exception exception) {
            return registryOutage(exception).isPresent() ? Response.fail() : super.handleError(context, record,
                exception);
        }
    }
}
