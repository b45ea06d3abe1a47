package io.cohortsync.broker;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.avro.SyncType;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.serde.ConfluentAvroSerde;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The first start of an application id (a new deployment, or a new id over existing topics) that finds profiles and
 * syncs already waiting: a sync must not be resolved before the profile table has read the profiles that were there,
 * or the members whose profiles are not indexed yet get second profiles.
 */
class ProfileBacklogOnBrokerTest extends ServiceOnBrokerTest {

    private static final int PROFILES = 8_000;
    private static final int MEMBERS_PER_BATCH = 1_000;

    @Override
    String appIdPrefix() {
        return "backlog";
    }

    @Test
    void syncsWaitingAtTheFirstStartMatchTheProfilesAheadOfThemInsteadOfCreatingSecondOnes() throws Exception {
        // A first application creates the topics and stops. Syncs arrive while the platform loads its profiles, so
        // their records are older than most profiles': Kafka Streams, which picks the oldest record first, would
        // resolve them before it indexed those profiles.
        try (CohortSyncService creator = CohortSyncService.start(config("creator"))) {
            assertThat(creator.awaitRunning(Duration.ofMinutes(2))).isTrue();
        }
        final List<String> lastIdentities = new ArrayList<>();
        for (int i = PROFILES - 2 * MEMBERS_PER_BATCH; i < PROFILES; i++) {
            lastIdentities.add("user-" + i);
        }
        produceAdd("m1", lastIdentities.subList(0, MEMBERS_PER_BATCH));
        produceAdd("m2", lastIdentities.subList(MEMBERS_PER_BATCH, 2 * MEMBERS_PER_BATCH));
        produceProfiles();

        try (CohortSyncService service = CohortSyncService.start(config("deployment"))) {
            final List<ConsumerRecord<String, SyncReport>> reports = BrokerClients.readUntil(kafka.bootstrapServers(),
                prefix + "sync-reports", ConfluentAvroSerde.specific(SyncReport.class, serdeConfig(), false).deserializer(),
                records -> records.size() >= 2, Duration.ofMinutes(2));

            assertThat(reports).extracting(record -> record.value().getMessageId()).containsExactlyInAnyOrder("m1", "m2");
            assertThat(reports).allSatisfy(record -> {
                assertThat(record.value().getMatched()).as("matched").isEqualTo(MEMBERS_PER_BATCH);
                assertThat(record.value().getCreated()).as("created").isZero();
                assertThat(record.value().getAdded()).as("added").isEqualTo(MEMBERS_PER_BATCH);
            });
            final List<ConsumerRecord<String, Profile>> profiles = BrokerClients.readAll(kafka.bootstrapServers(),
                prefix + "profiles", ConfluentAvroSerde.specific(Profile.class, serdeConfig(), false).deserializer(),
                Duration.ofSeconds(1));
            assertThat(profiles).hasSize(PROFILES);
        }
    }

    /**
     * A partition of the profiles topic that holds only an aborted transaction (a producer that failed mid-write, or
     * cohort-sync's own transaction cut off by a crash): its end offset is past the aborted records and their marker,
     * but Kafka Streams reads nothing there and so never commits an offset for it. The wait must see that nothing
     * readable is left, or it would hold every sync forever.
     */
    @Test
    void aPartitionHoldingOnlyAnAbortedTransactionDoesNotHoldSyncsForever() throws Exception {
        try (CohortSyncService creator = CohortSyncService.start(config("creator"))) {
            assertThat(creator.awaitRunning(Duration.ofMinutes(2))).isTrue();
        }
        produceAbortedProfiles();
        produceAdd("m1", List.of("user-1", "user-2"));

        try (CohortSyncService service = CohortSyncService.start(config("deployment"))) {
            final List<ConsumerRecord<String, SyncReport>> reports = BrokerClients.readUntil(kafka.bootstrapServers(),
                prefix + "sync-reports", ConfluentAvroSerde.specific(SyncReport.class, serdeConfig(), false).deserializer(),
                records -> !records.isEmpty(), Duration.ofMinutes(1));

            assertThat(reports).extracting(record -> record.value().getMessageId()).containsExactly("m1");
            assertThat(reports.get(0).value().getCreated()).as("created").isEqualTo(2);
        }
    }

    /** Profiles for every partition, in one transaction that is aborted. */
    private void produceAbortedProfiles() {
        final Map<String, Object> producerConfig = Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ProducerConfig.TRANSACTIONAL_ID_CONFIG, appId + "-aborting-platform");
        try (KafkaProducer<String, Profile> producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
            ConfluentAvroSerde.specific(Profile.class, serdeConfig(), false).serializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 4 * 8; i++) {
                final Profile profile = Profile.newBuilder().setAccountId("ct").setObjectId("aborted-" + i)
                    .setIdentity("user-" + i).setDeviceIds(List.of()).setCreatedAt(Instant.EPOCH)
                    .setUpdatedAt(Instant.EPOCH).build();
                producer.send(new ProducerRecord<>(prefix + "profiles", i % 4, "ct|aborted-" + i, profile));
            }
            producer.flush();
            producer.abortTransaction();
        }
    }

    private void produceProfiles() {
        final Map<String, Profile> profiles = new LinkedHashMap<>();
        for (int i = 0; i < PROFILES; i++) {
            profiles.put("ct|p" + i, Profile.newBuilder().setAccountId("ct").setObjectId("p" + i)
                .setIdentity("user-" + i).setDeviceIds(List.of()).setCreatedAt(Instant.EPOCH)
                .setUpdatedAt(Instant.EPOCH).build());
        }
        BrokerClients.produce(kafka.bootstrapServers(), prefix + "profiles",
            ConfluentAvroSerde.specific(Profile.class, serdeConfig(), false).serializer(), profiles);
    }

    private void produceAdd(final String messageId, final List<String> identities) {
        final List<Member> members = identities.stream()
            .map(identity -> Member.newBuilder().setUserProperties(Map.of("CleverTap_Identity", identity)).build())
            .toList();
        final CohortSyncRequest request = CohortSyncRequest.newBuilder().setAccountId("ct").setCohortId("c1")
            .setCohortName("Cohort c1").setMessageId(messageId).setComputedAt(Instant.ofEpochMilli(1_000))
            .setSyncType(SyncType.HOURLY).setOperation(Operation.ADD).setMembers(members).build();
        BrokerClients.produce(kafka.bootstrapServers(), prefix + "requests",
            ConfluentAvroSerde.specific(CohortSyncRequest.class, serdeConfig(), false).serializer(),
            Map.of("ct|c1", request));
    }

    /** Another application over this test's topics: its own id and state directory. */
    private CohortSyncConfig config(final String application) {
        return config(Map.of("application-id", appId + "-" + application,
            "state-dir", stateDir.resolve(application).toString()));
    }
}
