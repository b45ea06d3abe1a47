package io.cohortsync.identity;

import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.StreamPartitioner;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * Maps lookup keys to the partition of the identity stage that owns them. The ingest stage packs the members of a
 * batch into one chunk per group, so a 1,000-member batch costs a handful of repartition records, not 1,000; index
 * updates are routed by the same function, so a key's lookups and updates always meet in one partition.
 */
public final class LookupGroups {

    private LookupGroups() {
    }

    public static int groupOf(final String lookupKey, final int groups) {
        return Utils.toPositive(Utils.murmur2(lookupKey.getBytes(StandardCharsets.UTF_8))) % groups;
    }

    /** Sends a record to {@code group % partitions}, the group read from its value. */
    public static <K, V> StreamPartitioner<K, V> partitioner(final ToIntFunction<V> groupOfValue) {
        return (topic, key, value, numPartitions) -> Optional.of(Set.of(groupOfValue.applyAsInt(value) % numPartitions));
    }
}
