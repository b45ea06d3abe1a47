package io.cohortsync.topology;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.ingest.IngestSettings;
import io.cohortsync.ingest.IngestTopology;
import io.cohortsync.internal.ResolvedChunk;
import io.cohortsync.membership.MembershipTopology;
import io.cohortsync.membership.ProfileSegmentsTopology;
import io.cohortsync.metrics.CohortSyncMetrics;
import io.cohortsync.metrics.OutputMetrics;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.KStream;

import java.util.Properties;
import java.util.function.BooleanSupplier;

/**
 * The whole import topology, one builder method per stage:
 * <pre>
 *  requests ─► ingest ─┬─ member-lookups ──► identity resolution ─ resolved-members ─┐
 *                      │                         ▲            └─► profiles (new)     ▼
 *                      └─ segment-batches ───────┼──────────────────────────► membership ─► partner-sync
 *  profiles ─► profile table ─ identity-index-updates                                     └► sync-reports
 *  (every stage) ─► dlq
 * </pre>
 */
public final class CohortSyncTopology {

    /**
     * RocksDB stores one partition's tasks hold together; memtables are sized from it (StreamsSettings). Not counted:
     * {@code identity-held-lookups}, empty except while a start waits for the profile table to load.
     */
    public static final int PERSISTENT_STORES_PER_PARTITION = 7;

    private CohortSyncTopology() {
    }

    /** The topology with profiles taken as loaded: for tests and tools that load them before any request. */
    public static Topology build(final CohortSyncConfig config, final Topics topics, final Properties streamsProps) {
        return build(config, topics, streamsProps, CohortSyncMetrics.noop(), () -> true);
    }

    /**
     * The topology, counting into {@code metrics}; the read-only HTTP and metrics stages follow the outputs. Identity
     * resolution holds lookups until {@code profilesLoaded}.
     */
    public static Topology build(final CohortSyncConfig config, final Topics topics, final Properties streamsProps,
                                 final CohortSyncMetrics metrics, final BooleanSupplier profilesLoaded) {
        final StreamsBuilder builder = new StreamsBuilder();
        final int partitions = config.partitions();
        final IngestTopology.Outputs ingested = IngestTopology.addTo(builder, topics, ingestSettings(config, topics),
            partitions, config::account);
        final KStream<String, ResolvedChunk> resolved = IdentityTopology.addTo(builder, topics, ingested.lookups(),
            partitions, config.maxRecordBytes(), profilesLoaded);
        MembershipTopology.addTo(builder, topics, ingested.batches(), resolved, config.markerRetention());
        io.cohortsync.export.ExportTopology.addTo(builder, topics, config.accounts(), config.maxRecordBytes());
        return withReadOnlyStages(builder.build(streamsProps), config, topics, metrics);
    }

    /** Added last, to the built topology, so they share the sources of topics a DSL stage already reads. */
    private static Topology withReadOnlyStages(final Topology topology, final CohortSyncConfig config,
                                               final Topics topics, final CohortSyncMetrics metrics) {
        ProfileSegmentsTopology.addTo(topology, topics, config.maxRecordBytes(), metrics);
        OutputMetrics.addTo(topology, topics, metrics);
        return topology;
    }

    private static IngestSettings ingestSettings(final CohortSyncConfig config, final Topics topics) {
        return new IngestSettings(topics.requests.name(), topics.requests.valueSerde(), config.maxMembersPerBatch(),
            config.maxRecordBytes(), config.partitions(), config.messageIdRetention());
    }
}
