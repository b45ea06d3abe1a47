package io.cohortsync.topology;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.runtime.StreamsSettings;
import org.apache.kafka.streams.TopologyDescription;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** Memtables are sized from the number of stores a partition holds (StreamsSettings.memtableBytes). */
class TopologyStoresTest {

    @Test
    void theStoreCountTheMemtablesAreSizedFromIsTheTopologys() {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of(
            "kafka.bootstrap-servers", "unused:9092", "schema-registry.url", "mock://topology-stores-test"),
            TopologyFixture.ACCOUNTS);
        final Properties props = StreamsSettings.of(config, "unused:9092");
        final TopologyDescription description = CohortSyncTopology.build(config,
            Topics.create(config.topicPrefix(), config.serdeConfig()), props).describe();
        final Set<String> stores = new TreeSet<>();
        description.subtopologies().forEach(subtopology -> subtopology.nodes().forEach(node -> {
            if (node instanceof TopologyDescription.Processor processor) {
                stores.addAll(processor.stores());
            }
        }));
        // Not counted, by design: it holds nothing except while a start waits for the profile table.
        assertThat(stores).contains(IdentityTopology.HELD_LOOKUPS_STORE);
        stores.remove(IdentityTopology.HELD_LOOKUPS_STORE);
        assertThat(stores).hasSize(CohortSyncTopology.PERSISTENT_STORES_PER_PARTITION);
    }
}
