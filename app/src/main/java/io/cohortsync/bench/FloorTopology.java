package io.cohortsync.bench;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.PartnerSyncEvent;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The floor: the least a Kafka Streams app must do with the same input. It decodes each request with the same
 * serde, emits one small Avro record (a PartnerSyncEvent, same serde) per member keyed by the member's identity or
 * device, and writes them out. No state, no repartition, no lookups.
 */
final class FloorTopology {

    private FloorTopology() {
    }

    static Topology build(final String inputTopic, final String outputTopic,
                          final Deserializer<CohortSyncRequest> requests, final Serde<PartnerSyncEvent> events,
                          final Properties props) {
        final StreamsBuilder builder = new StreamsBuilder();
        builder.stream(inputTopic, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("floor-source"))
            .flatMap((key, value) -> explode(requests.deserialize(inputTopic, value)), Named.as("floor-explode"))
            .to(outputTopic, Produced.with(Serdes.String(), events).withName("floor-sink"));
        return builder.build(props);
    }

    private static List<KeyValue<String, PartnerSyncEvent>> explode(final CohortSyncRequest request) {
        final List<KeyValue<String, PartnerSyncEvent>> out = new ArrayList<>(request.getMembers().size());
        int n = 0;
        for (final Member member : request.getMembers()) {
            final String identity = member.getUserProperties().get("CleverTap_Identity");
            final String id = identity != null ? identity : member.getDeviceId();
            out.add(KeyValue.pair(request.getAccountId() + "|" + id, PartnerSyncEvent.newBuilder()
                .setAccountId(request.getAccountId())
                .setObjectId(id)
                .setIdentity(identity)
                .setTimestamp(request.getComputedAt())
                .setEventId(request.getMessageId() + "#" + n++)
                .setProperties(Map.of("Action", "Added"))
                .build()));
        }
        return out;
    }
}
