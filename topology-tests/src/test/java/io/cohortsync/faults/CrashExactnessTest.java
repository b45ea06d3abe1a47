package io.cohortsync.faults;

import io.cohortsync.embedded.EmbeddedRegistryServer;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
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
 * Suite 1 of the fault proofs: the import pushed through cohort-sync while its process is killed with SIGKILL at
 * random points (mid-stream, and during start-up and state restoration) and restarted; a read_committed consumer then
 * finds exactly the expected Partner Sync events, profiles and sync reports. Then the same with two instances and
 * standby replicas, killing one of them at a time.
 *
 * <p>The kill points come from a seed printed in the log; {@code -Dcohort-sync.faults.seed=N} replays a run.
 * {@code -Dcohort-sync.soak=true} pushes 1,000,000 members with 20 kills.
 */
@ExtendWith(SecretScan.class)
class CrashExactnessTest {

    private static final Logger LOG = LoggerFactory.getLogger(CrashExactnessTest.class);
    private static final Duration PROGRESS_TIMEOUT = Duration.ofMinutes(5);

    private static KafkaTestCluster kafka;
    private static EmbeddedRegistryServer registry;
    private static String registryScope;

    @BeforeAll
    static void startInfrastructure() throws IOException {
        kafka = KafkaTestCluster.start();
        // The child JVMs reach this in-memory registry over the Confluent REST API; the test's serdes share it.
        registryScope = "crash-" + UUID.randomUUID();
        registry = EmbeddedRegistryServer.start(registryScope, 0);
    }

    @AfterAll
    static void stopInfrastructure() {
        registry.close();
        MockSchemaRegistry.drop(registryScope);
        kafka.close();
    }

    @Test
    void hardKillsMidStreamLoseAndDuplicateNothing() throws Exception {
        importUnderKills("single", 0, 1, true);
    }

    @Test
    void hardKillsOfOneOfTwoInstancesWithStandbysLoseAndDuplicateNothing() throws Exception {
        importUnderKills("pair", 1, 2, false);
    }

    /**
     * Pushes the workload through {@code count} instances and kills one of them {@code 5} times (20 in the soak run).
     * With {@code startUpKills}, every third kill lands during the start-up and state restoration that follow the
     * previous kill. Every other kill is mid-stream: the requests are produced in waves, and the kill comes
     * after a wave, alternately a random 0.2-0.8 s after it (nothing of it committed yet) and once its first events
     * are committed, with one more batch produced at once (part applied, part in flight), each time checked to be
     * while a batch produced is not yet reported. The instance is restarted at once; the next wave waits until every instance is ready again. Then the
     * last wave, and the exact check of every output.
     */
    private void importUnderKills(final String name, final int standbyReplicas, final int count,
                                  final boolean startUpKills) throws Exception {
        final Random random = seededRandom();
        final ImportWorkload workload = ImportWorkload.ofMembers(Soak.pick(200_000, 1_000_000));
        final Instances instances = new Instances(name, standbyReplicas, count);
        try {
            runKills(instances, instances.check(workload), count, standbyReplicas, startUpKills, random);
        } finally {
            // Also on a failure: the child JVMs would otherwise outlive the build and slow every later suite.
            instances.closeAll();
        }
    }

    private void runKills(final Instances instances, final ImportCheck check, final int count,
                          final int standbyReplicas, final boolean startUpKills, final Random random)
        throws Exception {
        instances.startAll();
        final int killCount = Soak.pick(5, 20);
        final List<String> kills = new ArrayList<>();
        try (CommittedTopic.Counter events = prepare(instances, check)) {
            int wavesLeft = killCount + 1;
            for (int kill = 0; kill < killCount; kill++) {
                if (startUpKills && kill % 3 == 2) {
                    kills.add(killSoonAfterStart(instances, random));
                    wavesLeft--;
                    continue;
                }
                await("instances ready").atMost(Duration.ofMinutes(3)).until(instances::allReady);
                final int victim = random.nextInt(count);
                final String when = check.produceWaveAndWait(wavesLeft--, events, kill % 2 == 0, random);
                assertThat(instances.get(victim).alive()).as("%s is running", instances.get(victim).name()).isTrue();
                final ImportCheck.Progress progress = check.progress();
                assertThat(progress.midStream()).as("the kill lands mid-stream (%s)", progress).isTrue();
                kills.add(instances.killAndRestart(victim, when + ", " + progress));
            }
            check.produceNextWave(1);
            await("all Partner Sync events committed").atMost(PROGRESS_TIMEOUT)
                .until(() -> events.count() >= check.expectedEventCount());
            check.awaitAllProcessed(kafka.admin(), Duration.ofMinutes(2));
        }
        final String summary = check.assertExactlyOnce();
        LOG.info("{} instance(s), standby replicas {}, {} hard kills {}: {}", count, standbyReplicas, kills.size(),
            kills, summary);
    }

    /** Loads the profiles and waits until they are indexed; returns a counter of committed Partner Sync events. */
    private CommittedTopic.Counter prepare(final Instances instances, final ImportCheck check)
        throws InterruptedException {
        await("instances ready").atMost(Duration.ofMinutes(2)).until(instances::allReady);
        check.produceProfiles();
        check.awaitProfilesIndexed(kafka.admin(), Duration.ofMinutes(3));
        return new CommittedTopic.Counter(kafka.bootstrapServers(), check.topic("partner-sync"));
    }

    /** Kills instance 0 a random 0.5-3 s after its last (re)start: during start-up and state restoration. */
    private static String killSoonAfterStart(final Instances instances, final Random random)
        throws InterruptedException {
        final Duration delay = Duration.ofMillis(500 + random.nextInt(2_500));
        assertThat(instances.get(0).exitsWithin(delay)).as("%s exited on its own", instances.get(0).name())
            .isFalse();
        return instances.killAndRestart(0, delay.toMillis() + " ms after start");
    }

    private static Random seededRandom() {
        final long seed = Long.getLong("cohort-sync.faults.seed", System.nanoTime());
        LOG.info("Kill points from seed {} (replay with -Dcohort-sync.faults.seed={})", seed, seed);
        return new Random(seed);
    }

    /** The instances of one application: same application id, each its own state dir, config file and log. */
    private static final class Instances {
        private final String applicationId;
        private final List<Path> configs = new ArrayList<>();
        private final List<ServiceProcess> running = new ArrayList<>();
        private final List<Integer> starts = new ArrayList<>();
        private final Path logs;

        Instances(final String name, final int standbyReplicas, final int count) throws IOException {
            applicationId = "crash-" + name + "-" + UUID.randomUUID().toString().substring(0, 8);
            final Path dir = Files.createDirectories(Path.of("target", "fault-runs", applicationId)).toAbsolutePath();
            logs = Path.of("target", "fault-logs");
            for (int i = 0; i < count; i++) {
                configs.add(Files.writeString(dir.resolve("instance-" + i + ".yaml"),
                    config(dir.resolve("state-" + i), standbyReplicas)));
                running.add(null);
                starts.add(0);
            }
        }

        ImportCheck check(final ImportWorkload workload) {
            return new ImportCheck(kafka.bootstrapServers(), applicationId,
                Map.of("schema.registry.url", "mock://" + registryScope), workload);
        }

        void startAll() {
            for (int i = 0; i < configs.size(); i++) {
                start(i);
            }
        }

        boolean allReady() {
            return running.stream().allMatch(ServiceProcess::ready);
        }

        ServiceProcess get(final int index) {
            return running.get(index);
        }

        String killAndRestart(final int index, final String when) throws InterruptedException {
            final ServiceProcess victim = running.get(index);
            assertThat(victim.alive()).as("%s was still running before the kill", victim.name()).isTrue();
            victim.kill();
            start(index);
            return victim.name() + " killed " + when;
        }

        void closeAll() throws InterruptedException {
            for (final ServiceProcess process : running) {
                if (process != null) {
                    process.close();
                }
            }
        }

        private void start(final int index) {
            final int start = starts.get(index) + 1;
            starts.set(index, start);
            running.set(index, ServiceProcess.start("instance-" + index + " run " + start, configs.get(index),
                logs.resolve(applicationId + "-instance-" + index + ".log")));
        }

        private String config(final Path stateDir, final int standbyReplicas) {
            return """
                kafka:
                  bootstrap-servers: %s
                  # A killed instance leaves the group when its session times out; keep that short for the test.
                  session.timeout.ms: 6000
                  heartbeat.interval.ms: 1500
                schema-registry:
                  url: %s
                application-id: %s
                topic-prefix: %s.
                topics:
                  replication-factor: 1
                state-dir: %s
                streams:
                  standby-replicas: %d
                export:
                  enabled: false
                """.formatted(kafka.bootstrapServers(), registry.url(), applicationId, applicationId, stateDir,
                standbyReplicas) + ImportWorkload.ACCOUNTS_YAML;
        }
    }
}
