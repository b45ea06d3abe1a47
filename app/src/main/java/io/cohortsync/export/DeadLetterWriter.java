package io.cohortsync.export;

import io.cohortsync.avro.DeadLetter;
import io.cohortsync.deadletter.DeadLetters;
import io.cohortsync.deadletter.ReasonCode;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;

/**
 * Writes the dead letters of export records that cannot be exported, and tries again those the producer refused.
 * A record's offset stays uncommitted until its letter is written. Owned by the exporter's loop thread: the producer's
 * callbacks hand their outcome back through the loop's completion queue.
 */
final class DeadLetterWriter {

    /** The exporter's logger: operators (and tests) follow the exporter's warnings by that name. */
    private static final Logger LOG = LoggerFactory.getLogger(AmplitudeExporter.class);

    /** A dead letter to write: the record it is for, and why. */
    private record Letter(PendingEvent event, ReasonCode reason, String message) {
    }

    private final Producer<byte[], DeadLetter> producer;
    private final String topic;
    private final ExporterSettings settings;
    private final Queue<Runnable> completions;
    private final Map<String, AccountExport> accounts;
    private final Backpressure backpressure;
    private final WarningThrottle warnings;
    private int inFlight;
    /** Dead letters the producer refused (a serializer without its registry, say), to be tried again. */
    private final List<Letter> toRetry = new ArrayList<>();
    private long retryAt;
    private int failures;

    /** Takes over {@code producer}: {@link #close} closes it. */
    DeadLetterWriter(final Producer<byte[], DeadLetter> producer, final String topic, final ExporterSettings settings,
                     final Queue<Runnable> completions, final Map<String, AccountExport> accounts,
                     final Backpressure backpressure, final WarningThrottle warnings) {
        this.producer = producer;
        this.topic = topic;
        this.settings = settings;
        this.completions = completions;
        this.accounts = accounts;
        this.backpressure = backpressure;
        this.warnings = warnings;
    }

    /** Dead-letters the event's record; never throws (a letter that cannot be written now is tried again later). */
    void write(final PendingEvent event, final ReasonCode reason, final String message) {
        write(new Letter(event, reason, message));
    }

    /**
     * Sends the letter; never throws. A send that fails at once (its serializer cannot reach the schema registry, a
     * closed producer) is tried again after a backoff, its record holding back its partition's commit meanwhile.
     */
    private void write(final Letter letter) {
        final PendingEvent event = letter.event();
        try {
            final DeadLetter value = DeadLetters.of(event.partition.partition.topic(),
                event.partition.partition.partition(), event.offset, event.timestamp, event.rawKey, event.rawValue,
                letter.reason(), letter.message(), System.currentTimeMillis());
            producer.send(new ProducerRecord<>(topic, event.rawKey, value), (metadata, error) ->
                completions.add(() -> onWritten(letter, error)));
        } catch (final RuntimeException e) {
            retryLater(letter, e);
            return;
        }
        inFlight++;
    }

    private void onWritten(final Letter letter, final Exception error) {
        inFlight--;
        if (error != null) {
            retryLater(letter, error);
            return;
        }
        failures = 0;
        final PendingEvent event = letter.event();
        final ReasonCode reason = letter.reason();
        final String message = letter.message();
        if (event.event != null && accounts.containsKey(event.event.getAccountId())) {
            accounts.get(event.event.getAccountId()).metrics.rejected(reason.name());
        }
        event.finish();
        LOG.warn("Dead-lettered export record {}-{}@{}: {} ({})", event.partition.partition.topic(),
            event.partition.partition.partition(), event.offset, reason, message);
    }

    /**
     * Keeps a letter that could not be written for the next attempt, after a backoff that grows while writes keep
     * failing. Until then it counts against {@code export.max-buffered-events}, so a long failure pauses reading.
     */
    private void retryLater(final Letter letter, final Exception error) {
        if (toRetry.isEmpty()) {
            // One step per round of failed writes, not per letter: eight letters failing at once wait 400 ms, not 25 s.
            failures++;
            retryAt = System.nanoTime() + settings.retryBackoffNanos(failures);
        }
        toRetry.add(letter);
        backpressure.hold(letter.event());
        final PendingEvent event = letter.event();
        warnings.warn("dead-letter", "Cannot write a dead letter for " + event.partition.partition + "@" + event.offset
            + " (" + error + "); trying again, and the partition's commits wait for it (logged at most every 10 s)");
    }

    /** Writes again the letters refused earlier, once their backoff has passed. */
    void retryDue(final long now) {
        if (toRetry.isEmpty() || now < retryAt) {
            return;
        }
        final List<Letter> due = List.copyOf(toRetry);
        toRetry.clear();
        for (final Letter letter : due) {
            backpressure.release(letter.event());
            // The new owner of a revoked partition reads the record again and writes its letter.
            if (!letter.event().abandoned()) {
                write(letter);
            }
        }
    }

    /** Letters sent and not yet acknowledged. */
    int inFlight() {
        return inFlight;
    }

    /** Whether letters are in flight or wait to be tried again: the loop then polls briefly. */
    boolean busy() {
        return inFlight > 0 || !toRetry.isEmpty();
    }

    void close(final Duration timeout) {
        producer.close(timeout);
    }
}
