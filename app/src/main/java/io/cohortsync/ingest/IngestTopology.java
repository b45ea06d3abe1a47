package io.cohortsync.ingest;

import io.cohortsync.config.AccountSettings;
import io.cohortsync.deadletter.DeadLetterRouting;
import io.cohortsync.identity.LookupGroups;
import io.cohortsync.internal.BatchOpened;
import io.cohortsync.internal.LookupChunk;
import io.cohortsync.topology.InternalAvroSerde;
import io.cohortsync.topology.Topics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

import java.util.Optional;
import java.util.function.Function;

/** The ingest sub-topology: requests in; lookup chunks and batch headers out, each on its repartition topic. */
public final class IngestTopology {

    public static final String MESSAGE_IDS_STORE = "ingest-message-ids";
    public static final String LOOKUPS_TOPIC = "member-lookups";
    public static final String BATCHES_TOPIC = "segment-batches";

    private IngestTopology() {
    }

    /** The two streams the ingest stage hands on, already repartitioned. */
    public record Outputs(KStream<String, LookupChunk> lookups, KStream<String, BatchOpened> batches) {
    }

    public static Outputs addTo(final StreamsBuilder builder, final Topics topics, final IngestSettings settings,
                                final int partitions, final Function<String, Optional<AccountSettings>> accounts) {
        builder.addStateStore(Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(MESSAGE_IDS_STORE), Serdes.String(), Serdes.Long()));
        final KStream<String, Object> outputs = builder
            .stream(topics.requests.name(), topics.requests.consumedRaw("requests-source"))
            .process(() -> new RequestIngestProcessor(settings, accounts), Named.as("ingest-requests"),
                MESSAGE_IDS_STORE);
        DeadLetterRouting.route(outputs, topics, "ingest");
        final KStream<String, LookupChunk> lookups = outputs
            .filter((key, value) -> value instanceof LookupChunk, Named.as("ingest-lookup-chunks"))
            .mapValues(value -> (LookupChunk) value, Named.as("ingest-as-lookup-chunk"))
            .repartition(Repartitioned.<String, LookupChunk>as(LOOKUPS_TOPIC)
                .withKeySerde(Serdes.String())
                .withValueSerde(InternalAvroSerde.of(LookupChunk.class))
                .withNumberOfPartitions(partitions)
                .withStreamPartitioner(LookupGroups.partitioner(LookupChunk::getLookupGroup)));
        final KStream<String, BatchOpened> batches = outputs
            .filter((key, value) -> value instanceof BatchOpened, Named.as("ingest-batch-headers"))
            .mapValues(value -> (BatchOpened) value, Named.as("ingest-as-batch-header"))
            .repartition(Repartitioned.<String, BatchOpened>as(BATCHES_TOPIC)
                .withKeySerde(Serdes.String())
                .withValueSerde(InternalAvroSerde.of(BatchOpened.class))
                .withNumberOfPartitions(partitions));
        return new Outputs(lookups, batches);
    }
}
