package io.cohortsync.runtime;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.topology.Topics;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * acks=all is only as strong as the topic's min.insync.replicas: at the broker default of 1, a write Kafka acknowledged
 * can live on the leader alone and be lost with it. The topics cohort-sync creates, and Kafka Streams' internal ones,
 * take 2 at replication factor 3.
 */
class ReplicationSettingsTest {

    @Test
    void theTopicsCohortSyncCreatesNeedTwoInSyncReplicasAtReplicationFactorThree() {
        final Topics topics = Topics.create("p.", Map.of("schema.registry.url", "mock://replication"));

        final NewTopic requests = TopicBootstrapper.newTopic(topics.requests, 4, (short) 3, 1 << 20);

        assertThat(requests.configs()).containsEntry(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, "2");
    }

    @Test
    void kafkaStreamsInternalTopicsNeedTwoInSyncReplicasAtReplicationFactorThree() {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of("kafka.bootstrap-servers", "k:9092",
            "schema-registry.url", "mock://replication"), null);

        assertThat(StreamsSettings.of(config, "k:9092"))
            .containsEntry(StreamsConfig.REPLICATION_FACTOR_CONFIG, 3)
            .containsEntry(StreamsConfig.topicPrefix(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG), 2);
    }

    @Test
    void fewerReplicasKeepOneBrokerDownFromStoppingEveryWrite() {
        assertThat(TopicBootstrapper.minInSyncReplicas((short) 1)).isEqualTo(1);
        assertThat(TopicBootstrapper.minInSyncReplicas((short) 2)).isEqualTo(1);
        assertThat(TopicBootstrapper.minInSyncReplicas((short) 3)).isEqualTo(2);
        assertThat(TopicBootstrapper.minInSyncReplicas((short) 5)).isEqualTo(2);
    }
}
