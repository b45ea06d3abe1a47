package io.cohortsync.runtime;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.topology.CohortSyncTopology;
import io.cohortsync.topology.Topics;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The partition counts Kafka Streams will require of each internal topic, derived from the topology. */
class InternalTopicLayoutTest {

    @Test
    void repartitionTopicsFollowTopologyPartitionsAndChangelogsTheTopicsTheirStageReads() {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of("topology.partitions", "6"), """
            accounts:
              ct: {}
            """);
        final Topics topics = Topics.create("p.", config.serdeConfig());
        final Map<String, Integer> publicCounts = Map.of("p.requests", 8, "p.profiles", 3, "p.partner-sync", 3,
            "p.engagement-events", 3, "p.sync-reports", 5, "p.dlq", 2);

        final Map<String, Integer> expected = InternalTopicLayout.expected(CohortSyncTopology.build(config, topics,
            StreamsSettings.of(config, "k:9092")).describe(), "app", 6, publicCounts);

        assertThat(expected).containsEntry("app-member-lookups-repartition", 6)
            .containsEntry("app-segment-batches-repartition", 6)
            .containsEntry("app-resolved-members-repartition", 6)
            .containsEntry("app-identity-index-updates-repartition", 6)
            .containsEntry("app-ingest-message-ids-changelog", 8)
            .containsEntry("app-identity-profiles-changelog", 3)
            .containsEntry("app-identity-index-changelog", 6)
            .containsEntry("app-membership-members-changelog", 6);
    }

    /**
     * Kafka Streams names a repartition topic {@code <application-id>-<name>-repartition} whatever the name starts
     * with: under application-id "member", the member-lookups stage's topic is member-member-lookups-repartition. Taken
     * for already prefixed, it was looked for as member-lookups-repartition, never found, and never checked.
     */
    @Test
    void aRepartitionTopicWhoseNameStartsLikeTheApplicationIdIsStillPrefixed() {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of("topology.partitions", "6",
            "application-id", "member"), """
            accounts:
              ct: {}
            """);
        final Topics topics = Topics.create("p.", config.serdeConfig());

        final Map<String, Integer> expected = InternalTopicLayout.expected(CohortSyncTopology.build(config, topics,
            StreamsSettings.of(config, "k:9092")).describe(), "member", 6, Map.of("p.requests", 4));

        assertThat(expected).containsEntry("member-member-lookups-repartition", 6)
            .doesNotContainKey("member-lookups-repartition");
    }
}
