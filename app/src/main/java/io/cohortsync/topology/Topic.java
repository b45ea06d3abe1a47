package io.cohortsync.topology;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/** A topic with the serdes of its keys and values. */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde, boolean compacted) {

    public Produced<K, V> produced(final String processorName) {
        return Produced.with(keySerde, valueSerde).withName(processorName);
    }

    /**
     * Inputs are read as bytes and decoded by cohort-sync itself, so a record that does not decode is dead-lettered
     * with its reason instead of failing the stream thread.
     */
    public Consumed<byte[], byte[]> consumedRaw(final String sourceName) {
        return Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName(sourceName);
    }
}
