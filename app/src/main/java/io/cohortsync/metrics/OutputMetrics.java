package io.cohortsync.metrics;

import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.deadletter.InputDecoder;
import io.cohortsync.topology.SourceTaps;
import io.cohortsync.topology.Topic;
import io.cohortsync.topology.Topics;
import org.apache.kafka.streams.AutoOffsetReset;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.Record;

import java.util.function.Consumer;

/**
 * Counts the committed sync reports and dead letters ({@link CohortSyncMetrics}) by reading those topics back:
 * read_committed under exactly_once_v2, so what was really written is counted, wherever it was written from
 * (the exporter writes dead letters too), without touching the stages that write them. A record that does not
 * decode is not counted, and never dead-lettered again.
 */
public final class OutputMetrics {

    private OutputMetrics() {
    }

    /** Adds the two counting processors to the built topology (see {@link SourceTaps}). */
    public static void addTo(final Topology topology, final Topics topics, final CohortSyncMetrics metrics) {
        count(topology, topics.syncReports, "metrics-sync-reports", metrics::syncReport);
        count(topology, topics.deadLetters, "metrics-dead-letters", metrics::deadLetter);
    }

    private static <V> void count(final Topology topology, final Topic<?, V> topic, final String name,
                                  final Consumer<V> counter) {
        // From the latest record the first time: a new deployment does not count the topic's history as new.
        final String source = SourceTaps.sourceOf(topology, topic.name(), name + "-source", AutoOffsetReset.latest());
        topology.addProcessor(name + "-count", () -> new Counting<>(topic, counter), source);
    }

    /** Decodes and counts; forwards nothing. Also accepts already-decoded values from a typed source. */
    private static final class Counting<V> implements Processor<Object, Object, Void, Void> {
        private final Topic<?, V> topic;
        private final Consumer<V> counter;
        private final InputDecoder<V> decoder;

        Counting(final Topic<?, V> topic, final Consumer<V> counter) {
            this.topic = topic;
            this.counter = counter;
            this.decoder = new InputDecoder<>(topic.valueSerde().deserializer(), Integer.MAX_VALUE);
        }

        @Override
        @SuppressWarnings("unchecked")
        public void process(final Record<Object, Object> record) {
            if (record.value() instanceof byte[] bytes) {
                final InputDecoder.Result<V> decoded = decoder.decode(topic.name(), bytes);
                if (decoded.value() != null) {
                    counter.accept(decoded.value());
                }
            } else if (record.value() instanceof SyncReport || record.value() instanceof DeadLetter) {
                counter.accept((V) record.value());
            }
        }
    }
}
