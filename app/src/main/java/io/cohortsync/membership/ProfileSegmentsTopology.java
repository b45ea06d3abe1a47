package io.cohortsync.membership;

import io.cohortsync.internal.ProfileSegment;
import io.cohortsync.metrics.CohortSyncMetrics;
import io.cohortsync.topology.InternalAvroSerde;
import io.cohortsync.topology.SourceTaps;
import io.cohortsync.topology.Topics;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.AutoOffsetReset;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The segments of each profile, for the HTTP profile query, kept from the Partner Sync events: they are already
 * keyed (so partitioned) by profile, {@code <account>|<objectId>}, while the membership stores are partitioned by
 * segment and cannot say which segments a profile has without asking every partition. Store {@value #STORE}, key
 * {@code <account>|<objectId>|<cohortId>}. It follows the events, so it trails the membership stores by about a
 * commit interval. Also counts the events for the metrics (one billable data point each).
 */
public final class ProfileSegmentsTopology {

    public static final String STORE = "profile-segments";
    public static final String PROCESSOR = "profile-segments-apply";

    private ProfileSegmentsTopology() {
    }

    /**
     * Adds the processor and its store to the built topology, under the partner-sync topic's existing source if
     * another stage (the export) reads it, else under a new one (see {@link SourceTaps}).
     */
    public static void addTo(final Topology topology, final Topics topics, final int maxRecordBytes,
                             final CohortSyncMetrics metrics) {
        // From the earliest event: the store is built from the whole history of the topic.
        final String source = SourceTaps.sourceOf(topology, topics.partnerSync.name(), "profile-segments-source",
            AutoOffsetReset.earliest());
        topology.addProcessor(PROCESSOR, () -> new ProfileSegmentsProcessor(
            topics.partnerSync.valueSerde().deserializer(), maxRecordBytes, metrics), source);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
            InternalAvroSerde.of(ProfileSegment.class)), PROCESSOR);
        topology.addSink("profile-segments-dead-letter-sink", topics.deadLetters.name(), new ByteArraySerializer(),
            topics.deadLetters.valueSerde().serializer(), PROCESSOR);
    }
}
