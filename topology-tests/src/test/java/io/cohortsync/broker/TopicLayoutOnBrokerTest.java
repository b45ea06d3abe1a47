package io.cohortsync.broker;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.runtime.StartupException;
import io.cohortsync.runtime.TopicBootstrapper;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Topics that exist before cohort-sync starts. Those keyed by profile ({@code profiles}, {@code partner-sync},
 * {@code engagement-events}) are looked up in one profile table per task, so they must be partitioned alike:
 * cohort-sync creates the missing ones to match the platform's existing {@code profiles}, and refuses to start on a
 * mismatch it cannot fix. So it does on a dead-letter topic too small for the letters it may have to write.
 */
class TopicLayoutOnBrokerTest extends ServiceOnBrokerTest {

    @Override
    String appIdPrefix() {
        return "layout";
    }

    @Test
    void topicsKeyedByProfileAreCreatedWithTheExistingProfilesPartitionCount() throws Exception {
        kafka.createTopics(Map.of(prefix + "profiles", 3));

        try (CohortSyncService service = CohortSyncService.start(config())) {
            assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
        }

        assertThat(partitionCounts(List.of("profiles", "partner-sync", "engagement-events", "requests")))
            .containsExactly(Map.entry("profiles", 3), Map.entry("partner-sync", 3), Map.entry("engagement-events", 3),
                Map.entry("requests", 4));
    }

    @Test
    void aPartnerSyncTopicPartitionedUnlikeProfilesFailsTheStart() {
        kafka.createTopics(Map.of(prefix + "profiles", 3, prefix + "partner-sync", 2));

        assertThatThrownBy(() -> CohortSyncService.start(config()).close())
            .isInstanceOf(StartupException.class)
            .hasMessageContaining("same number of partitions")
            .hasMessageContaining(prefix + "partner-sync=2")
            .hasMessageContaining("the 3 partitions of " + prefix + "profiles");
    }

    @Test
    void aMissingProfilesTopicIsCreatedLikeTheTopicsKeyedByProfileThatExist() throws Exception {
        kafka.createTopics(Map.of(prefix + "partner-sync", 2));

        try (CohortSyncService service = CohortSyncService.start(config())) {
            assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
        }

        assertThat(partitionCounts(List.of("profiles", "partner-sync", "engagement-events")))
            .containsOnly(Map.entry("profiles", 2), Map.entry("partner-sync", 2), Map.entry("engagement-events", 2));
    }

    @Test
    void aDeadLetterTopicThatCannotTakeTheLargestDeadLetterFailsTheStart() {
        kafka.createTopics(Map.of(prefix + "dlq", 1), Map.of("max.message.bytes", "1048588"));

        assertThatThrownBy(() -> CohortSyncService.start(config()).close())
            .isInstanceOf(StartupException.class)
            .hasMessageContaining(prefix + "dlq has max.message.bytes=1048588")
            .hasMessageContaining("--add-config max.message.bytes=");
    }

    /**
     * Existing topics keep the max.message.bytes they were created with. After ingest.max-record-bytes is raised, the
     * webhook would write request records the requests topic refuses (503 on every retry of a call that fitted
     * before): the start names the topic, as it does the dead-letter topic.
     */
    @Test
    void aRaisedRecordLimitFailsTheStartWhileTheRequestsTopicKeepsTheOldOne() {
        final int raised = 16 * 1024 * 1024;
        kafka.createTopics(Map.of(prefix + "requests", 4), Map.of("max.message.bytes",
            String.valueOf(TopicBootstrapper.maxMessageBytes(8 * 1024 * 1024))));
        kafka.createTopics(Map.of(prefix + "dlq", 1), Map.of("max.message.bytes",
            String.valueOf(TopicBootstrapper.maxMessageBytes(raised))));

        assertThatThrownBy(() -> CohortSyncService.start(config(Map.of("ingest.max-record-bytes",
            String.valueOf(raised)))).close())
            .isInstanceOf(StartupException.class)
            .hasMessageContaining(prefix + "requests has max.message.bytes=8454144")
            .hasMessageContaining("--add-config max.message.bytes=" + TopicBootstrapper.maxMessageBytes(raised));
    }

    @Test
    void aRequestsTopicExpandedAfterItWasUsedFailsTheStart() throws Exception {
        runOnce(config());
        expandRequestsTo(8);

        assertThatThrownBy(() -> CohortSyncService.start(config()).close())
            .isInstanceOf(StartupException.class)
            .hasMessageContaining(prefix + "requests=8")
            .hasMessageContaining(appId + "-ingest-message-ids-changelog has 4 partitions, needs 8");
    }

    @Test
    void anotherTopologyPartitionsForAnApplicationThatRanFailsTheStart() throws Exception {
        runOnce(config());

        assertThatThrownBy(() -> CohortSyncService.start(config(Map.of("topology.partitions", "8"))).close())
            .isInstanceOf(StartupException.class)
            .hasMessageContaining(appId + "-member-lookups-repartition has 4 partitions")
            .hasMessageContaining("topology.partitions=8");
    }

    @Test
    void aRequestsTopicExpandedWhileRunningStopsTheServiceInsteadOfRetryingForever() throws Exception {
        // Consumers notice a partition count change at their next metadata refresh (5 minutes by default).
        try (CohortSyncService service = CohortSyncService.start(config(Map.of("kafka.metadata.max.age.ms", "500")))) {
            assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
            expandRequestsTo(8);

            await("Kafka Streams in ERROR").atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> assertThat(service.streams().state()).isEqualTo(KafkaStreams.State.ERROR));
        }
    }

    private static void runOnce(final CohortSyncConfig config) throws InterruptedException {
        try (CohortSyncService service = CohortSyncService.start(config)) {
            assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
        }
    }

    private void expandRequestsTo(final int partitions) throws Exception {
        kafka.admin().createPartitions(Map.of(prefix + "requests", NewPartitions.increaseTo(partitions))).all()
            .get(30, TimeUnit.SECONDS);
    }

    private Map<String, Integer> partitionCounts(final List<String> names) throws Exception {
        final Map<String, TopicDescription> described = kafka.admin()
            .describeTopics(names.stream().map(name -> prefix + name).toList()).allTopicNames()
            .get(30, TimeUnit.SECONDS);
        return names.stream().collect(Collectors.toMap(name -> name,
            name -> described.get(prefix + name).partitions().size(), (a, b) -> a, LinkedHashMap::new));
    }
}
