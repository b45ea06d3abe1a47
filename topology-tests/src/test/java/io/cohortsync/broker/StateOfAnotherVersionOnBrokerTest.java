package io.cohortsync.broker;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.SyncType;
import io.cohortsync.identity.IdentityRules;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.identity.LookupGroups;
import io.cohortsync.internal.IndexEntry;
import io.cohortsync.internal.IndexOwners;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.serde.ConfluentAvroSerde;
import io.cohortsync.topology.InternalAvroSerde;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A build started on state another cohort-sync version wrote (an upgrade that changed a store's format, or a rollback
 * from one). The state is refused when a value in the other format is read; retrying cannot fix that, so the service
 * must stop, not replace its stream thread forever while it reports RUNNING and every partition of the thread waits.
 */
class StateOfAnotherVersionOnBrokerTest extends ServiceOnBrokerTest {

    /** The base's {@code topology.partitions}. */
    private static final int PARTITIONS = 4;

    @Override
    String appIdPrefix() {
        return "format";
    }

    @Test
    void anIdentityIndexValueInAnotherFormatStopsKafkaStreamsWhenItIsRead() throws Exception {
        try (CohortSyncService first = CohortSyncService.start(config())) {
            assertThat(first.awaitRunning(Duration.ofMinutes(2))).isTrue();
        }
        final String lookupKey = IdentityRules.identityKey("ct", "Jane");
        writeIndexValueInFormatOne(lookupKey);

        try (CohortSyncService second = CohortSyncService.start(config())) {
            assertThat(second.awaitRunning(Duration.ofMinutes(2))).as("the start does not read the store").isTrue();
            final CohortSyncRequest request = CohortSyncRequest.newBuilder().setAccountId("ct").setCohortId("c1")
                .setCohortName("Cohort c1").setMessageId("m1").setComputedAt(Instant.ofEpochMilli(1_000))
                .setSyncType(SyncType.HOURLY).setOperation(Operation.ADD)
                .setMembers(List.of(Member.newBuilder().setUserProperties(Map.of("CleverTap_Identity", "Jane"))
                    .build()))
                .build();
            BrokerClients.produce(kafka.bootstrapServers(), prefix + "requests",
                ConfluentAvroSerde.specific(CohortSyncRequest.class,
                    serdeConfig(), false).serializer(),
                Map.of("ct|c1", request));

            // The failed stream thread dies with the refusal either way: what matters is what Kafka Streams does next.
            await("Kafka Streams in ERROR").atMost(Duration.ofSeconds(60)).dontCatchUncaughtExceptions()
                .untilAsserted(() -> assertThat(second.streams().state()).isEqualTo(KafkaStreams.State.ERROR));
        }
    }

    /** What a build whose index held one profile per key (format 1) left in the index's changelog. */
    private void writeIndexValueInFormatOne(final String lookupKey) throws Exception {
        final byte[] formatOne = InternalAvroSerde.of(IndexOwners.class).serializer().serialize("changelog",
            new IndexOwners(List.of(new IndexEntry("p1", "jane")), 0));
        final String changelog = appId + "-" + IdentityTopology.INDEX_STORE + "-changelog";
        final int partition = LookupGroups.groupOf(lookupKey, PARTITIONS) % PARTITIONS;
        final Map<String, Object> producerConfig = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
            new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(changelog, partition, lookupKey, formatOne)).get(30, TimeUnit.SECONDS);
        }
    }
}
