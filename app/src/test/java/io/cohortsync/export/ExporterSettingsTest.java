package io.cohortsync.export;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ExporterSettingsTest {

    @Test
    void theRetryBackoffDoublesUpToItsMax() {
        final ExporterSettings settings = withBackoff(Duration.ofMillis(200), Duration.ofSeconds(30));

        assertThat(settings.retryBackoffNanos(1)).isEqualTo(Duration.ofMillis(200).toNanos());
        assertThat(settings.retryBackoffNanos(2)).isEqualTo(Duration.ofMillis(400).toNanos());
        assertThat(settings.retryBackoffNanos(8)).isEqualTo(Duration.ofMillis(25_600).toNanos());
        assertThat(settings.retryBackoffNanos(9)).isEqualTo(Duration.ofSeconds(30).toNanos());
        assertThat(settings.retryBackoffNanos(1_000)).isEqualTo(Duration.ofSeconds(30).toNanos());
    }

    /** A minute is about 2^36 ns: doubled 28 times it passed Long.MAX_VALUE, and the wait came out negative. */
    @Test
    void aLongBackoffNeverOverflowsIntoANegativeWait() {
        final ExporterSettings settings = withBackoff(Duration.ofMinutes(1), Duration.ofHours(1));

        long previous = 0;
        for (int failures = 0; failures <= 200; failures++) {
            final long wait = settings.retryBackoffNanos(failures);
            assertThat(wait).as("after %d failures", failures).isBetween(previous, Duration.ofHours(1).toNanos());
            previous = wait;
        }
        assertThat(settings.retryBackoffNanos(29)).isEqualTo(Duration.ofHours(1).toNanos());
    }

    private static ExporterSettings withBackoff(final Duration initial, final Duration max) {
        return new ExporterSettings("group", Duration.ofMillis(20), 4, 50_000, 0, Duration.ofSeconds(30), initial, max,
            Duration.ofSeconds(30), Duration.ofHours(1), Duration.ofSeconds(1), Path.of("dry.ndjson"),
            Duration.ofSeconds(5), 1_000_000);
    }
}
