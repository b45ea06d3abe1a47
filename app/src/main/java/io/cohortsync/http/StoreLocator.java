package io.cohortsync.http;

import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where a store's data lives: which instance owns a key (by its {@code application.server}), which partitions of a
 * store this instance serves, and those partitions' stores. Only active, running tasks answer (no stale stores):
 * while Kafka Streams is not RUNNING, or a partition is moving or restoring, the answer is a retryable 503.
 */
final class StoreLocator {

    static final Serializer<String> KEYS = new StringSerializer();

    /** The instance that owns a key, the partition it lives in, and whether that instance is this one. */
    record Owner(HostInfo host, int partition, boolean local) {
    }

    private final KafkaStreams streams;
    private final HostInfo self;
    private final Map<String, Integer> subtopologyByStore;

    StoreLocator(final KafkaStreams streams, final HostInfo self, final TopologyDescription topology) {
        this.streams = streams;
        this.self = self;
        this.subtopologyByStore = subtopologies(topology);
    }

    HostInfo self() {
        return self;
    }

    void requireRunning() {
        final KafkaStreams.State state = streams.state();
        if (state != KafkaStreams.State.RUNNING) {
            throw HttpError.unavailable("Kafka Streams is " + state + " (starting, rebalancing or restoring): the "
                + "owner of this data is not settled; retry shortly");
        }
    }

    Owner owner(final String store, final String key) {
        requireRunning();
        final KeyQueryMetadata metadata;
        try {
            metadata = streams.queryMetadataForKey(store, key, KEYS);
        } catch (final IllegalStateException | InvalidStateStoreException e) {
            throw HttpError.unavailable("the owner of " + store + " key is unknown right now (" + e.getMessage()
                + "); retry shortly");
        }
        if (metadata == null || KeyQueryMetadata.NOT_AVAILABLE.equals(metadata) || metadata.activeHost() == null
            || metadata.activeHost().port() < 0) {
            throw HttpError.unavailable("no instance owns this " + store + " key right now (a rebalance is in "
                + "progress); retry shortly");
        }
        return new Owner(metadata.activeHost(), metadata.partition(), metadata.activeHost().equals(self));
    }

    /** Every instance of the application, by its {@code application.server}. */
    Set<HostInfo> instances() {
        requireRunning();
        final Set<HostInfo> hosts = new LinkedHashSet<>();
        for (final StreamsMetadata metadata : streams.metadataForAllStreamsClients()) {
            hosts.add(metadata.hostInfo());
        }
        hosts.add(self);
        return hosts;
    }

    /** The partitions of {@code store} this instance serves as the active task. */
    Set<Integer> localPartitions(final String store) {
        final Integer subtopology = subtopologyByStore.get(store);
        final Set<Integer> partitions = new TreeSet<>();
        for (final ThreadMetadata thread : streams.metadataForLocalThreads()) {
            for (final TaskMetadata task : thread.activeTasks()) {
                if (subtopology != null && task.taskId().subtopology() == subtopology) {
                    partitions.add(task.taskId().partition());
                }
            }
        }
        return partitions;
    }

    /** One partition's store, if this instance runs it as an active task right now. */
    <V> ReadOnlyKeyValueStore<String, V> store(final String store, final int partition) {
        try {
            return streams.store(StoreQueryParameters.fromNameAndType(store,
                QueryableStoreTypes.<String, V>keyValueStore()).withPartition(partition));
        } catch (final InvalidStateStoreException e) {
            throw HttpError.unavailable("partition " + partition + " of " + store + " is not queryable on this "
                + "instance right now (moving or restoring); retry shortly");
        }
    }

    private static Map<String, Integer> subtopologies(final TopologyDescription topology) {
        final Map<String, Integer> byStore = new HashMap<>();
        for (final TopologyDescription.Subtopology subtopology : topology.subtopologies()) {
            for (final TopologyDescription.Node node : subtopology.nodes()) {
                if (node instanceof TopologyDescription.Processor processor) {
                    processor.stores().forEach(store -> byStore.put(store, subtopology.id()));
                }
            }
        }
        return byStore;
    }
}
