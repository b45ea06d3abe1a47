package io.cohortsync.runtime;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.cohortsync.internal.IndexOwners;
import io.cohortsync.topology.InternalAvroSerde;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

class StreamThreadFailuresTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger(StreamThreadFailures.class);
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void capture() {
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void release() {
        logger.detachAppender(log);
    }

    /** A record that fails on every attempt must not make the service replace threads in a tight loop. */
    @Test
    void aFailureIsReplacedAtOnceAndFailuresInARowWaitABackoffThatGrows() {
        // A long maximum: failures count as "in a row" while they come within twice of it, whatever the machine's load.
        final StreamThreadFailures failures = new StreamThreadFailures(new CountDownLatch(1), Duration.ofMillis(10),
            Duration.ofSeconds(10));

        for (int i = 0; i < 4; i++) {
            assertThat(failures.handle(new IllegalStateException("boom " + i)))
                .isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        }

        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).satisfiesExactly(
            first -> assertThat(first).startsWith("A stream thread failed; replacing it.").contains("boom 0"),
            second -> assertThat(second).contains("failed again (2 in a row)", "starts in 0.01 s", "boom 1"),
            third -> assertThat(third).contains("(3 in a row)", "starts in 0.02 s"),
            fourth -> assertThat(fourth).contains("(4 in a row)", "starts in 0.04 s"));
        assertThat(log.list.get(0).getThrowableProxy()).as("the first one's stack trace").isNotNull();
        assertThat(log.list.get(1).getThrowableProxy()).as("not repeated").isNull();
    }

    /** Retrying cannot fix internal topics of the wrong size: the service stops, so the orchestrator sees it. */
    @Test
    void anInternalTopicOfTheWrongSizeStopsTheClientInsteadOfReplacingItsThreadForever() {
        final StreamThreadFailures failures = new StreamThreadFailures(new CountDownLatch(1));
        final StreamsException error = new StreamsException("Existing internal topic app-ingest-message-ids-changelog "
            + "has invalid partitions: expected: 8; actual: 4. Use 'org.apache.kafka.tools.StreamsResetter' tool");

        assertThat(failures.handle(new StreamsException(error)))
            .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
        assertThat(log.list).singleElement().extracting(ILoggingEvent::getFormattedMessage).asString()
            .contains("app-ingest-message-ids-changelog has invalid partitions", "is stopping", "partition count");
    }

    /** State another cohort-sync version wrote fails every retry the same way: the service stops, saying so. */
    @Test
    void stateInAnotherFormatStopsTheClientInsteadOfReplacingItsThreadForever() {
        final StreamThreadFailures failures = new StreamThreadFailures(new CountDownLatch(1));
        final byte[] formatOne = InternalAvroSerde.of(IndexOwners.class).serializer()
            .serialize("t", new IndexOwners(List.of(), 0));
        final Throwable refused = catchThrowable(() -> InternalAvroSerde.of(IndexOwners.class, 2).deserializer()
            .deserialize("app-identity-index-changelog", formatOne));

        assertThat(failures.handle(new StreamsException("Exception caught in process. taskId=1_0", refused)))
            .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
        assertThat(log.list).singleElement().extracting(ILoggingEvent::getFormattedMessage).asString()
            .contains("Kafka Streams is stopping", "app-identity-index-changelog has format 1, not 2",
                "another cohort-sync version", "Retrying cannot fix this");
    }

    /** Throwable refuses only itself as its cause; two that cause each other must not hold the stream thread. */
    @Test
    void aCauseChainThatLoopsIsReadOnce() {
        final StreamThreadFailures failures = new StreamThreadFailures(new CountDownLatch(1));
        final IllegalStateException outer = new IllegalStateException("outer");
        final IllegalStateException inner = new IllegalStateException("inner", outer);
        outer.initCause(inner);

        assertThat(failures.handle(outer)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(Causes.chain(outer)).containsExactly(outer, inner);
        assertThat(Causes.has(outer, IOException.class)).isFalse();
    }
}
