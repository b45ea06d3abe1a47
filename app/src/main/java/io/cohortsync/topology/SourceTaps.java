package io.cohortsync.topology;

import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.AutoOffsetReset;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyDescription;

/**
 * Read-only stages (query projections, metrics) that follow a topic the topology may already read. A topic can be
 * a source only once per topology, so such a stage hangs its processor under the existing source node of the
 * topic, or adds a raw (bytes) source when nothing reads it yet. Call it on the built topology, after every
 * DSL stage, so it never takes a topic away from one.
 */
public final class SourceTaps {

    private SourceTaps() {
    }

    /**
     * The name of a source node reading {@code topic}: an existing one (which keeps its own offset reset), else a
     * new raw one named {@code name} that starts, the first time, from {@code reset}.
     */
    public static String sourceOf(final Topology topology, final String topic, final String name,
                                  final AutoOffsetReset reset) {
        for (final TopologyDescription.Subtopology subtopology : topology.describe().subtopologies()) {
            for (final TopologyDescription.Node node : subtopology.nodes()) {
                if (node instanceof TopologyDescription.Source source && source.topicSet() != null
                    && source.topicSet().contains(topic)) {
                    return source.name();
                }
            }
        }
        topology.addSource(reset, name, new ByteArrayDeserializer(), new ByteArrayDeserializer(), topic);
        return name;
    }
}
