package io.cohortsync.broker;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.avro.SyncType;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.runtime.ConsumerLag;
import io.cohortsync.serde.ConfluentAvroSerde;
import io.cohortsync.serde.testing.ApicurioRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import io.cohortsync.testing.TestDirs;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real application (not the test driver) on a real in-process KRaft broker, with a real Confluent-compatible
 * registry (Apicurio): requests produced through an independent serde instance, Partner Sync events read back with
 * a read_committed consumer, and the exact expected set asserted.
 */
class CohortImportOnBrokerTest {

    private static final String ACCOUNTS = """
        accounts:
          ct:
            import:
              policy: CREATE_UNMATCHED
          bz:
            import:
              policy: MATCH_ONLY
              identifiers: [external_id, device_id]
        """;

    private static KafkaTestCluster kafka;
    private static ApicurioRegistry registry;

    @BeforeAll
    static void startInfrastructure() {
        kafka = KafkaTestCluster.start();
        registry = ApicurioRegistry.startNew();
    }

    @AfterAll
    static void stopInfrastructure() {
        registry.close();
        kafka.close();
    }

    @Test
    void requestsYieldExactlyTheExpectedPartnerSyncEvents() throws Exception {
        final String appId = "import-it-" + UUID.randomUUID();
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of(
            "kafka.bootstrap-servers", kafka.bootstrapServers(),
            "schema-registry.url", registry.ccompatUrl(),
            "application-id", appId,
            "topic-prefix", appId + ".",
            "topics.replication-factor", "1",
            "state-dir", TestDirs.create("cohort-sync-it").toString()), ACCOUNTS);
        final Map<String, Object> clientSerdes = Map.of("schema.registry.url", registry.ccompatUrl());
        final String prefix = appId + ".";
        try (CohortSyncService service = CohortSyncService.start(config)) {
            assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
            produceProfiles(prefix, clientSerdes);
            awaitIndexed(service, appId, prefix);
            produceRequests(prefix, clientSerdes);

            final List<ConsumerRecord<String, PartnerSyncEvent>> events = BrokerClients.readUntil(
                kafka.bootstrapServers(), prefix + "partner-sync",
                ConfluentAvroSerde.specific(PartnerSyncEvent.class, clientSerdes, false).deserializer(),
                records -> records.size() >= 9, Duration.ofMinutes(2));
            final Map<String, String> created = createdProfiles(prefix, clientSerdes);

            assertThat(created).containsOnlyKeys("CleverTap3", "543C-3455-4555-3SRD", "Shared-New");
            assertThat(created.get("543C-3455-4555-3SRD")).isEqualTo("543C-3455-4555-3SRD");
            assertThat(events.stream().map(CohortImportOnBrokerTest::describe).toList())
                .containsExactlyInAnyOrder(
                    "ct|p1 Added c1", "ct|" + created.get("CleverTap3") + " Added c1",
                    "ct|543C-3455-4555-3SRD Added c1", "ct|" + created.get("Shared-New") + " Added c1",
                    "ct|" + created.get("Shared-New") + " Added c3", "ct|p1 Added c3",
                    "ct|p1 Removed c1",
                    "bz|b1 Added c9", "bz|b2 Added c9");
            assertThat(events.stream().map(r -> r.value().getEventId()).collect(Collectors.toSet())).hasSize(9);
            assertNothingMoreArrives(prefix, clientSerdes);
            assertReportsAndDeadLetters(prefix, clientSerdes);
        }
    }

    private void produceProfiles(final String prefix, final Map<String, Object> serdes) {
        final Map<String, Profile> profiles = new LinkedHashMap<>();
        profiles.put("ct|p1", profile("ct", "p1", "clevertap1"));
        profiles.put("ct|p2", profile("ct", "p2", "CleverTap2"));
        profiles.put("bz|b1", profile("bz", "b1", "ext-1"));
        profiles.put("bz|b2", Profile.newBuilder(profile("bz", "b2", null)).setDeviceIds(List.of("dev-bz-2")).build());
        BrokerClients.produce(kafka.bootstrapServers(), prefix + "profiles",
            ConfluentAvroSerde.specific(Profile.class, serdes, false).serializer(), profiles);
    }

    private void awaitIndexed(final CohortSyncService service, final String appId, final String prefix)
        throws InterruptedException {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
            service.adminConfig())) {
            assertThat(ConsumerLag.awaitCaughtUp(admin, appId, List.of(prefix + "profiles",
                appId + "-" + IdentityTopology.INDEX_UPDATES_TOPIC + "-repartition"), Duration.ofMinutes(1))).isTrue();
        }
    }

    private void produceRequests(final String prefix, final Map<String, Object> serdes) {
        final var serializer = ConfluentAvroSerde.specific(CohortSyncRequest.class, serdes, false).serializer();
        BrokerClients.produceRaw(kafka.bootstrapServers(), prefix + "requests",
            "ct|c1".getBytes(StandardCharsets.UTF_8), "garbage".getBytes(StandardCharsets.UTF_8));
        final Map<String, CohortSyncRequest> first = new LinkedHashMap<>();
        first.put("ct|c1", request("ct", "c1", "m1", 1_000, Operation.ADD, identity("Clevertap1"),
            identity("CleverTap3"), Member.newBuilder().setDeviceId("543C-3455-4555-3SRD").build(),
            identity("Shared-New")));
        // A second cohort on another request partition (asserted below), racing for the same new identity.
        assertThat(requestPartition("ct|c3")).isNotEqualTo(requestPartition("ct|c1"));
        first.put("ct|c3", request("ct", "c3", "m2", 1_000, Operation.ADD, identity("shared-new"),
            identity("CLEVERTAP1")));
        first.put("bz|c9", request("bz", "c9", "m4", 1_000, Operation.ADD,
            Member.newBuilder().setUserId("EXT-1").build(), Member.newBuilder().setDeviceId("dev-bz-2").build(),
            Member.newBuilder().setUserId("stranger").build()));
        BrokerClients.produce(kafka.bootstrapServers(), prefix + "requests", serializer, first);
        final Map<String, CohortSyncRequest> second = new LinkedHashMap<>();
        second.put("ct|c1", request("ct", "c1", "m3", 2_000, Operation.REMOVE, identity("clevertap1"),
            identity("never-seen")));
        BrokerClients.produce(kafka.bootstrapServers(), prefix + "requests", serializer, second);
        BrokerClients.produce(kafka.bootstrapServers(), prefix + "requests", serializer,
            Map.of("ct|c1", request("ct", "c1", "m1", 1_000, Operation.ADD, identity("Clevertap1"))));
    }

    /** The partition Kafka's default partitioner gives a request key on the service's 4 request partitions. */
    private static int requestPartition(final String key) {
        return org.apache.kafka.common.utils.Utils.toPositive(
            org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % 4;
    }

    private Map<String, String> createdProfiles(final String prefix, final Map<String, Object> serdes) {
        final List<ConsumerRecord<String, Profile>> profiles = BrokerClients.readUntil(kafka.bootstrapServers(),
            prefix + "profiles", ConfluentAvroSerde.specific(Profile.class, serdes, false).deserializer(),
            records -> records.stream().filter(r -> "partner-sync:Amplitude".equals(r.value().getCreatedBy()))
                .count() >= 3, Duration.ofMinutes(1));
        return profiles.stream().map(ConsumerRecord::value)
            .filter(p -> "partner-sync:Amplitude".equals(p.getCreatedBy()))
            .collect(Collectors.toMap(p -> p.getIdentity() != null ? p.getIdentity() : p.getObjectId(),
                Profile::getObjectId));
    }

    private void assertNothingMoreArrives(final String prefix, final Map<String, Object> serdes) {
        final List<ConsumerRecord<String, SyncReport>> reports = BrokerClients.readUntil(kafka.bootstrapServers(),
            prefix + "sync-reports", ConfluentAvroSerde.specific(SyncReport.class, serdes, false).deserializer(),
            records -> records.size() >= 5, Duration.ofMinutes(1));
        assertThat(reports).hasSize(5);
        final List<ConsumerRecord<String, PartnerSyncEvent>> events = BrokerClients.readAll(kafka.bootstrapServers(),
            prefix + "partner-sync", ConfluentAvroSerde.specific(PartnerSyncEvent.class, serdes, false).deserializer(),
            Duration.ofSeconds(2));
        assertThat(events).hasSize(9);
        final List<ConsumerRecord<String, Profile>> profiles = BrokerClients.readAll(kafka.bootstrapServers(),
            prefix + "profiles", ConfluentAvroSerde.specific(Profile.class, serdes, false).deserializer(),
            Duration.ofSeconds(1));
        assertThat(profiles).hasSize(4 + 3);
    }

    private void assertReportsAndDeadLetters(final String prefix, final Map<String, Object> serdes) {
        final Map<String, SyncReport> reports = BrokerClients.readAll(kafka.bootstrapServers(), prefix + "sync-reports",
                ConfluentAvroSerde.specific(SyncReport.class, serdes, false).deserializer(), Duration.ofSeconds(1))
            .stream().map(ConsumerRecord::value)
            .collect(Collectors.toMap(r -> r.getMessageId() + (r.getDuplicate() ? "-dup" : ""), r -> r));
        assertThat(reports.keySet()).containsExactlyInAnyOrder("m1", "m2", "m3", "m4", "m1-dup");
        assertThat(reports.get("m1").getCreated()).isEqualTo(3);
        assertThat(reports.get("m1").getMatched()).isEqualTo(1);
        assertThat(reports.get("m2").getMatched()).isEqualTo(2);
        assertThat(reports.get("m3").getRemoved()).isEqualTo(1);
        assertThat(reports.get("m3").getUnmatched()).isEqualTo(1);
        assertThat(reports.get("m4").getUnmatched()).isEqualTo(1);
        final List<ConsumerRecord<String, DeadLetter>> dead = BrokerClients.readAll(kafka.bootstrapServers(),
            prefix + "dlq", ConfluentAvroSerde.specific(DeadLetter.class, serdes, false).deserializer(),
            Duration.ofSeconds(1));
        assertThat(dead).singleElement().satisfies(record -> {
            assertThat(record.value().getReasonCode()).isEqualTo("DESERIALIZATION_FAILED");
            assertThat(record.value().getSourceTopic()).isEqualTo(prefix + "requests");
            assertThat(record.key()).isEqualTo("ct|c1");
        });
    }

    private static String describe(final ConsumerRecord<String, PartnerSyncEvent> record) {
        final Map<String, String> properties = record.value().getProperties();
        return record.key() + " " + properties.get("Action") + " " + properties.get("Partner Segment ID");
    }

    private static Member identity(final String identity) {
        return Member.newBuilder().setUserProperties(Map.of("CleverTap_Identity", identity)).build();
    }

    private static Profile profile(final String accountId, final String objectId, final String identity) {
        return Profile.newBuilder().setAccountId(accountId).setObjectId(objectId).setIdentity(identity)
            .setCreatedAt(Instant.EPOCH).setUpdatedAt(Instant.EPOCH).setCreatedBy("platform").build();
    }

    private static CohortSyncRequest request(final String accountId, final String cohortId, final String messageId,
                                             final long computedAt, final Operation operation,
                                             final Member... members) {
        return CohortSyncRequest.newBuilder().setAccountId(accountId).setCohortId(cohortId)
            .setCohortName("Cohort " + cohortId).setMessageId(messageId)
            .setComputedAt(Instant.ofEpochMilli(computedAt)).setSyncType(SyncType.REAL_TIME).setOperation(operation)
            .setMembers(Arrays.asList(members)).build();
    }

}
