package io.cohortsync.membership;

import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.internal.BatchOpened;
import io.cohortsync.internal.BatchProgress;
import io.cohortsync.internal.MembershipState;
import io.cohortsync.internal.ResolvedChunk;
import io.cohortsync.internal.SegmentStats;
import io.cohortsync.topology.InternalAvroSerde;
import io.cohortsync.topology.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.state.Stores;

import java.time.Duration;

/** The membership sub-topology: per segment, members and statistics; Partner Sync events and sync reports out. */
public final class MembershipTopology {

    public static final String MEMBERS_STORE = "membership-members";
    public static final String SEGMENTS_STORE = "membership-segments";
    public static final String BATCHES_STORE = "membership-batches";

    private MembershipTopology() {
    }

    public static void addTo(final StreamsBuilder builder, final Topics topics,
                             final KStream<String, BatchOpened> batches, final KStream<String, ResolvedChunk> resolved,
                             final Duration markerRetention) {
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(MEMBERS_STORE),
            Serdes.String(), InternalAvroSerde.of(MembershipState.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SEGMENTS_STORE),
            Serdes.String(), InternalAvroSerde.of(SegmentStats.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BATCHES_STORE),
            Serdes.String(), InternalAvroSerde.of(BatchProgress.class)));
        final String[] stores = {MEMBERS_STORE, SEGMENTS_STORE, BATCHES_STORE};
        final KStream<String, Object> fromHeaders =
            batches.process(BatchOpenedProcessor::new, Named.as("membership-open-batches"), stores);
        final KStream<String, Object> fromMembers = resolved.process(
            () -> new ResolvedChunkProcessor(markerRetention), Named.as("membership-apply-members"), stores);
        final KStream<String, Object> outputs = fromHeaders.merge(fromMembers, Named.as("membership-outputs"));
        outputs.filter((key, value) -> value instanceof PartnerSyncEvent, Named.as("membership-partner-sync-events"))
            .mapValues(value -> (PartnerSyncEvent) value, Named.as("membership-as-partner-sync"))
            .to(topics.partnerSync.name(), topics.partnerSync.produced("partner-sync-sink"));
        outputs.filter((key, value) -> value instanceof SyncReport, Named.as("membership-sync-reports"))
            .mapValues(value -> (SyncReport) value, Named.as("membership-as-sync-report"))
            .to(topics.syncReports.name(), topics.syncReports.produced("sync-reports-sink"));
    }
}
