package io.cohortsync.runtime;

import io.cohortsync.config.CohortSyncConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class FailedStartTest {

    /** The scheduler Micrometer's Kafka binders refresh their meters on; it runs until the binder is closed. */
    private static final String METRICS_REFRESH_THREAD = "micrometer-kafka-metrics";

    @Test
    void aStartThatFailsStopsTheKafkaStreamsMetricsRefresh(@TempDir final Path dataDir) {
        final Set<Thread> before = Thread.getAllStackTraces().keySet();
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of("embedded.data-dir", dataDir.toString(),
            "topics.create", "false"), null);

        assertThatThrownBy(() -> CohortSyncService.start(config)).isInstanceOf(StartupException.class)
            .hasMessageContaining("topics.create is false");

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(startedSince(before))
            .doesNotContain(METRICS_REFRESH_THREAD));
    }

    private static Set<String> startedSince(final Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream().filter(thread -> !before.contains(thread))
            .filter(Thread::isAlive).map(Thread::getName).collect(Collectors.toSet());
    }
}
