package io.cohortsync.export;

import io.cohortsync.config.CohortSyncConfig;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The exporter's own settings (the {@code export.*} keys; README "Export to Amplitude").
 *
 * @param groupId                  the consumer group over the export topic
 * @param linger                   how long a partly filled request waits for more events when there is no backlog
 * @param maxInFlightRequests      concurrent requests per account (one user's events are in at most one of them)
 * @param maxBufferedEvents        events read ahead of Amplitude's answers before the consumer pauses
 * @param maxEventsPerIdPerSecond  pace per user/device id; 0 = the endpoint's documented limit
 * @param requestTimeout           an answer slower than this is a timeout (retried)
 * @param retryBackoff             first wait after a 5xx or timeout; doubles per failure, with jitter
 * @param retryBackoffMax          longest wait after repeated failures
 * @param throttleWait             how long throttled users/devices wait after a 429 (Amplitude says 30 s)
 * @param dailyQuotaWait           how long ids over their daily quota wait
 * @param commitInterval           how often finished offsets are committed
 * @param dryRunFile               where accounts without an API key write their request bodies
 * @param closeTimeout             how long a clean stop waits for requests in flight
 * @param maxRecordBytes           larger export records are dead-lettered unread ({@code ingest.max-record-bytes},
 *                                 the limit of every input topic); also sizes the dead-letter producer's requests
 */
public record ExporterSettings(String groupId, Duration linger, int maxInFlightRequests, int maxBufferedEvents,
                               int maxEventsPerIdPerSecond, Duration requestTimeout, Duration retryBackoff,
                               Duration retryBackoffMax, Duration throttleWait, Duration dailyQuotaWait,
                               Duration commitInterval, Path dryRunFile, Duration closeTimeout, int maxRecordBytes) {

    public static ExporterSettings from(final CohortSyncConfig config) {
        return new ExporterSettings(config.exportGroupId(), config.exportLinger(), config.exportMaxInFlightRequests(),
            config.exportMaxBufferedEvents(), config.exportMaxEventsPerIdPerSecond(), config.exportRequestTimeout(),
            config.exportRetryBackoff(), config.exportRetryBackoffMax(), config.exportThrottleWait(),
            config.exportDailyQuotaWait(), config.exportCommitInterval(), config.exportDryRunFile(),
            Duration.ofSeconds(10), config.maxRecordBytes());
    }

    /**
     * How long to wait after {@code failures} failures in a row: {@code retry-backoff}, doubling per failure up to
     * {@code retry-backoff-max}. The account's backoff after 5xx and timeouts and the dead-letter writer's retries
     * both grow this way. The doubling is checked against the max before it is made: a long {@code retry-backoff}
     * (a minute is 2^36 ns) shifted 28 times would overflow into a negative wait.
     */
    long retryBackoffNanos(final int failures) {
        final long initial = retryBackoff.toNanos();
        final long max = retryBackoffMax.toNanos();
        final int doublings = Math.max(0, failures - 1);
        return doublings >= Long.SIZE - 1 || initial > max >> doublings ? max : initial << doublings;
    }

    /** Events per second one id may send on this endpoint. */
    int eventsPerIdPerSecond(final Endpoint endpoint) {
        return maxEventsPerIdPerSecond > 0 ? maxEventsPerIdPerSecond : endpoint.eventsPerIdPerSecond();
    }
}
