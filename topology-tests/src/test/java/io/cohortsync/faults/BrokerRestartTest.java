package io.cohortsync.faults;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Suite 2 of the fault proofs: the broker is restarted (same port, same storage) several times while cohort-sync is
 * importing; the service recovers on its own, with no restart and no operator, and a read_committed consumer then
 * finds exactly the expected outputs. {@code -Dcohort-sync.soak=true} pushes 500,000 members through 10 restarts.
 */
@ExtendWith(SecretScan.class)
class BrokerRestartTest {

    private static final Logger LOG = LoggerFactory.getLogger(BrokerRestartTest.class);

    @Test
    void theServiceRidesOutBrokerRestartsWithExactOutputs() throws Exception {
        final long seed = Long.getLong("cohort-sync.faults.seed", System.nanoTime());
        LOG.info("Restart points from seed {} (replay with -Dcohort-sync.faults.seed={})", seed, seed);
        final Random random = new Random(seed);
        final String applicationId = "broker-restart-" + UUID.randomUUID().toString().substring(0, 8);
        final String registryScope = applicationId;
        final ImportWorkload workload = ImportWorkload.ofMembers(Soak.pick(100_000, 500_000));
        final int restarts = Soak.pick(2, 10);
        final List<String> restartedAt = new ArrayList<>();
        try (KafkaTestCluster kafka = KafkaTestCluster.start();
             CohortSyncService service = CohortSyncService.start(config(kafka, applicationId, registryScope))) {
            final ImportCheck check = new ImportCheck(kafka.bootstrapServers(), applicationId,
                Map.of("schema.registry.url", "mock://" + registryScope), workload);
            assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
            check.produceProfiles();
            check.awaitProfilesIndexed(kafka.admin(), Duration.ofMinutes(3));
            try (CommittedTopic.Counter events = new CommittedTopic.Counter(kafka.bootstrapServers(),
                check.topic("partner-sync"))) {
                // The requests come in waves; each restart follows a wave, alternately before any of it is committed
                // and once part of it is, always while the import is provably still going.
                for (int restart = 0; restart < restarts; restart++) {
                    final String when = check.produceWaveAndWait(restarts + 1 - restart, events, restart % 2 == 0,
                        random);
                    final ImportCheck.Progress progress = check.progress();
                    assertThat(progress.midStream()).as("the restart lands mid-stream (%s)", progress).isTrue();
                    restartedAt.add(when + ", " + progress);
                    kafka.restartBroker();
                }
                check.produceNextWave(1);
                await("all Partner Sync events committed").atMost(Duration.ofMinutes(5))
                    .until(() -> events.count() >= check.expectedEventCount());
            }
            check.awaitAllProcessed(kafka.admin(), Duration.ofMinutes(2));
            final String summary = check.assertExactlyOnce();
            assertThat(service.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
            LOG.info("{} broker restarts {}: {}", restarts, restartedAt, summary);
        } finally {
            MockSchemaRegistry.drop(registryScope);
        }
    }

    private static CohortSyncConfig config(final KafkaTestCluster kafka, final String applicationId,
                                           final String registryScope) throws Exception {
        final Path stateDir = Files.createDirectories(Path.of("target", "fault-runs", applicationId));
        return CohortSyncConfig.of(Map.of(
            "kafka.bootstrap-servers", kafka.bootstrapServers(),
            "schema-registry.url", "mock://" + registryScope,
            "application-id", applicationId,
            "topic-prefix", applicationId + ".",
            "topics.replication-factor", "1",
            "state-dir", stateDir.toString(),
            "export.enabled", "false"), ImportWorkload.ACCOUNTS_YAML);
    }
}
