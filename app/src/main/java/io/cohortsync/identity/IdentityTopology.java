package io.cohortsync.identity;

import io.cohortsync.avro.Profile;
import io.cohortsync.deadletter.DeadLetterRouting;
import io.cohortsync.internal.IndexOwners;
import io.cohortsync.internal.IndexUpdate;
import io.cohortsync.internal.LookupChunk;
import io.cohortsync.internal.ParkedLookups;
import io.cohortsync.internal.ResolvedChunk;
import io.cohortsync.topology.InternalAvroSerde;
import io.cohortsync.topology.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

import java.util.function.BooleanSupplier;

/**
 * Two sub-topologies: the profile table, which derives identity-index updates from {@code cohort-sync.profiles};
 * and identity resolution, which owns the identity index and resolves (or creates) the profile of every member.
 */
public final class IdentityTopology {

    public static final String PROFILES_STORE = "identity-profiles";
    public static final String INDEX_STORE = "identity-index";
    public static final String HELD_LOOKUPS_STORE = "identity-held-lookups";
    public static final String INDEX_UPDATES_TOPIC = "identity-index-updates";
    public static final String RESOLVED_TOPIC = "resolved-members";
    /** The index's value format: 2 since it lists every owner of a key (it held one profile in format 1). */
    private static final int INDEX_FORMAT = 2;

    private IdentityTopology() {
    }

    /**
     * Adds both sub-topologies; returns the resolved chunks, repartitioned by segment. Lookups are held until
     * {@code profilesLoaded} (see {@link MemberResolveProcessor}).
     */
    public static KStream<String, ResolvedChunk> addTo(final StreamsBuilder builder, final Topics topics,
                                                       final KStream<String, LookupChunk> lookups,
                                                       final int partitions, final int maxRecordBytes,
                                                       final BooleanSupplier profilesLoaded) {
        final KStream<String, IndexUpdate> indexUpdates = addProfileTable(builder, topics, partitions, maxRecordBytes);
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(INDEX_STORE),
            Serdes.String(), InternalAvroSerde.of(IndexOwners.class, INDEX_FORMAT)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(HELD_LOOKUPS_STORE),
            Serdes.Long(), InternalAvroSerde.of(ParkedLookups.class)));
        indexUpdates.process(IndexUpdateProcessor::new, Named.as("identity-apply-index-updates"), INDEX_STORE);
        final KStream<String, Object> outputs = lookups.process(() -> new MemberResolveProcessor(profilesLoaded),
            Named.as("identity-resolve-members"), INDEX_STORE, HELD_LOOKUPS_STORE);
        outputs.filter((key, value) -> value instanceof Profile, Named.as("identity-created-profiles"))
            .mapValues(value -> (Profile) value, Named.as("identity-as-profile"))
            .to(topics.profiles.name(), topics.profiles.produced("identity-profiles-sink"));
        return outputs
            .filter((key, value) -> value instanceof ResolvedChunk, Named.as("identity-resolved-chunks"))
            .mapValues(value -> (ResolvedChunk) value, Named.as("identity-as-resolved-chunk"))
            .repartition(Repartitioned.<String, ResolvedChunk>as(RESOLVED_TOPIC)
                .withKeySerde(Serdes.String())
                .withValueSerde(InternalAvroSerde.of(ResolvedChunk.class))
                .withNumberOfPartitions(partitions));
    }

    private static KStream<String, IndexUpdate> addProfileTable(final StreamsBuilder builder, final Topics topics,
                                                                final int partitions, final int maxRecordBytes) {
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(PROFILES_STORE),
            Serdes.String(), InternalAvroSerde.of(Profile.class)));
        final KStream<String, Object> outputs = builder
            .stream(topics.profiles.name(), topics.profiles.consumedRaw("profiles-source"))
            .process(() -> new ProfileIndexProcessor(topics.profiles.valueSerde().deserializer(), maxRecordBytes),
                Named.as("identity-index-profiles"), PROFILES_STORE);
        DeadLetterRouting.route(outputs, topics, "profiles");
        return outputs
            .filter((key, value) -> value instanceof IndexUpdate, Named.as("identity-index-update-records"))
            .mapValues(value -> (IndexUpdate) value, Named.as("identity-as-index-update"))
            .repartition(Repartitioned.<String, IndexUpdate>as(INDEX_UPDATES_TOPIC)
                .withKeySerde(Serdes.String())
                .withValueSerde(InternalAvroSerde.of(IndexUpdate.class))
                .withNumberOfPartitions(partitions)
                .withStreamPartitioner(LookupGroups.partitioner(
                    (IndexUpdate update) -> LookupGroups.groupOf(update.getLookupKey(), partitions))));
    }
}
