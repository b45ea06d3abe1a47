package io.cohortsync.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.Profile;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.membership.MembershipTopology;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.runtime.ConsumerLag;
import io.cohortsync.serde.ConfluentAvroSerde;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import io.cohortsync.testing.TestDirs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.StreamSupport;

import static io.cohortsync.http.AmplitudePayloads.JSON;
import static io.cohortsync.http.AmplitudePayloads.batch;
import static io.cohortsync.http.AmplitudePayloads.device;
import static io.cohortsync.http.AmplitudePayloads.identified;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two instances of the service (one application id, two state dirs and HTTP ports) on one broker: every query is
 * answered the same, and correctly, by both, whichever instance owns the data; and an instance asked directly for
 * data it does not own says "retry", never a wrong answer.
 */
class QueriesAcrossInstancesTest {

    private static final String TOKEN = "two-instances-token";
    private static final String PASSCODE = "two-instances-passcode";
    private static final String ACCOUNTS = """
        accounts:
          ct:
            webhook:
              passcodes: ["%s"]
        """.formatted(PASSCODE);

    private static final String SCOPE = "queries-it-" + UUID.randomUUID();
    private static KafkaTestCluster kafka;
    private static CohortSyncService first;
    private static CohortSyncService second;
    private static String appId;

    @BeforeAll
    static void startTwoInstancesAndSync() throws Exception {
        kafka = KafkaTestCluster.start();
        appId = "queries-it-" + UUID.randomUUID();
        first = CohortSyncService.start(config());
        assertThat(first.awaitRunning(Duration.ofMinutes(2))).isTrue();
        produceProfiles();
        second = CohortSyncService.start(config());
        post(first, batch("c1", "Cart Drop off", true, 1_000L, "m1", identified("alice"), identified("bob"),
            device("dev-9")));
        post(second, batch("c2", "Big Spenders", true, 1_000L, "m2", identified("Alice"), identified("carol")));
        post(first, batch("c3", "Churn Risk", true, 1_000L, "m3", identified("dave")));
        post(second, batch("c3", "Churn Risk", false, 2_000L, "m4", identified("dave")));
        TopicContents.readUntil(kafka.bootstrapServers(), appId + ".partner-sync",
            ConfluentAvroSerde.specific(PartnerSyncEvent.class, serdes(), false).deserializer(),
            events -> events.size() >= 7, Duration.ofMinutes(2));
        awaitBothRunningWithPartitions();
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(cohortIds(
            get(first, "/accounts/ct/profiles/p-alice").json().path("segments"))).containsExactly("c1", "c2"));
    }

    @AfterAll
    static void stop() {
        for (final CohortSyncService service : new CohortSyncService[] {second, first}) {
            if (service != null) {
                service.close();
            }
        }
        if (kafka != null) {
            kafka.close();
        }
        MockSchemaRegistry.drop(SCOPE);
    }

    @Test
    void bothInstancesListTheAccountsSegmentsWithTheirStatistics() {
        for (final CohortSyncService instance : List.of(first, second)) {
            final JsonNode segments = ok(instance, "/accounts/ct/segments").path("segments");
            assertThat(cohortIds(segments)).containsExactly("c1", "c2", "c3");
            assertThat(segments.get(0).path("name").asText()).isEqualTo("Cart Drop off");
            assertThat(segments.get(0).path("type").asText()).isEqualTo("Partner - Amplitude");
            assertThat(segments.get(0).path("memberCount").asLong()).isEqualTo(3);
            assertThat(segments.get(0).path("lastSyncType").asText()).isEqualTo("REAL_TIME");
            assertThat(segments.get(0).path("lastSyncAt").asText()).isEqualTo(Instant.ofEpochSecond(1_000).toString());
            assertThat(segments.get(1).path("memberCount").asLong()).isEqualTo(2);
            assertThat(segments.get(2).path("memberCount").asLong()).isZero();
            assertThat(segments.get(2).path("totalAdded").asLong()).isEqualTo(1);
            assertThat(segments.get(2).path("totalRemoved").asLong()).isEqualTo(1);
            assertThat(segments.get(2).path("lastSyncAt").asText()).isEqualTo(Instant.ofEpochSecond(2_000).toString());
        }
    }

    @Test
    void bothInstancesAnswerForOneSegmentAndPageItsMembersInAStableOrder() {
        final List<String> expected = new ArrayList<>();
        for (final CohortSyncService instance : List.of(first, second)) {
            final JsonNode segment = ok(instance, "/accounts/ct/segments/c1");
            assertThat(segment.path("memberCount").asLong()).isEqualTo(3);
            assertThat(segment.path("totalAdded").asLong()).isEqualTo(3);

            final JsonNode page1 = ok(instance, "/accounts/ct/segments/c1/members?limit=2");
            assertThat(page1.path("members")).hasSize(2);
            final String next = page1.path("next").asText();
            final JsonNode page2 = ok(instance, "/accounts/ct/segments/c1/members?limit=2&after=" + next);
            assertThat(page2.path("members")).hasSize(1);
            assertThat(page2.path("next").isNull()).isTrue();
            final List<String> members = new ArrayList<>(objectIds(page1.path("members")));
            members.addAll(objectIds(page2.path("members")));
            assertThat(members).isSorted().contains("p-alice", "dev-9").hasSize(3);
            if (expected.isEmpty()) {
                expected.addAll(members);
            }
            assertThat(members).isEqualTo(expected);
            assertThat(ok(instance, "/accounts/ct/segments/c3/members").path("members")).isEmpty();
        }
    }

    @Test
    void bothInstancesAnswerForAProfileWithItsSegments() {
        for (final CohortSyncService instance : List.of(first, second)) {
            final JsonNode alice = ok(instance, "/accounts/ct/profiles/p-alice");
            assertThat(alice.path("identity").asText()).isEqualTo("alice");
            assertThat(cohortIds(alice.path("segments"))).containsExactly("c1", "c2");
            assertThat(alice.path("segments").get(0).path("name").asText()).isEqualTo("Cart Drop off");

            final JsonNode device = ok(instance, "/accounts/ct/profiles/dev-9");
            assertThat(device.path("createdBy").asText()).isEqualTo("partner-sync:Amplitude");
            assertThat(cohortIds(device.path("segments"))).containsExactly("c1");
            assertThat(ok(instance, "/accounts/ct/profiles/p-dave").path("segments")).isEmpty();
            assertThat(cohortIds(ok(instance, "/accounts/ct/profiles/p-alice/segments").path("segments")))
                .containsExactly("c1", "c2");
        }
    }

    /** curl and many clients send {@code |} unescaped; forwarding it to the owner must not break on it. */
    @Test
    void anUnescapedBarInAnIdOrCursorIsAnsweredTheSameByBothInstances() {
        for (final CohortSyncService instance : List.of(first, second)) {
            assertThat(settled(() -> rawGet(instance, "/accounts/ct/profiles/p|nobody")).status()).isEqualTo(404);
            final HttpTestClient.Response page = settled(() -> rawGet(instance,
                "/accounts/ct/segments/c1/members?limit=2&after=dev-9"));
            assertThat(page.status()).as(page.body()).isEqualTo(200);
            assertThat(objectIds(page.json().path("members"))).containsExactly("p-alice");
            final HttpTestClient.Response afterBar = settled(() -> rawGet(instance,
                "/accounts/ct/segments/c1/members?after=p|x"));
            assertThat(afterBar.status()).as(afterBar.body()).isEqualTo(200);
            assertThat(afterBar.json().path("members")).as("'|' sorts after every member id").isEmpty();
        }
    }

    @Test
    void unknownThingsAre404AndTheTokenIsRequired() {
        for (final CohortSyncService instance : List.of(first, second)) {
            assertThat(get(instance, "/accounts/ct/segments/nope").status()).isEqualTo(404);
            assertThat(get(instance, "/accounts/ct/profiles/nobody").status()).isEqualTo(404);
            assertThat(get(instance, "/accounts/other/segments").status()).isEqualTo(404);
            assertThat(new HttpTestClient(instance.httpPort()).get("/accounts/ct/segments").status()).isEqualTo(401);
        }
    }

    @Test
    void anInstanceAskedDirectlyForDataItDoesNotOwnSaysRetry() {
        final HostInfo owner = first.streams().queryMetadataForKey(MembershipTopology.SEGMENTS_STORE, "ct|c1",
            new StringSerializer()).activeHost();
        final CohortSyncService notOwner = owner.port() == first.httpPort() ? second : first;

        final HttpTestClient.Response response = new HttpTestClient(notOwner.httpPort()).get(
            "/accounts/ct/segments/c1", "Authorization", "Bearer " + TOKEN, "X-Cohort-Sync-Hop", "1");

        assertThat(response.status()).isEqualTo(503);
        assertThat(response.json().path("retryable").asBoolean()).isTrue();
        assertThat(response.header("Retry-After")).isPresent();
    }

    private static CohortSyncConfig config() throws Exception {
        return CohortSyncConfig.of(Map.of(
            "kafka.bootstrap-servers", kafka.bootstrapServers(),
            "schema-registry.url", "mock://" + SCOPE,
            "application-id", appId,
            "topic-prefix", appId + ".",
            "topics.replication-factor", "1",
            "state-dir", TestDirs.create("cohort-sync-queries-it").toString(),
            "http.host", "127.0.0.1",
            "http.token", TOKEN), ACCOUNTS);
    }

    /** Existing profiles, indexed before any sync names them (see the README's identity-resolution limit). */
    private static void produceProfiles() throws InterruptedException {
        try (KafkaProducer<String, Profile> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
            new StringSerializer(), ConfluentAvroSerde.specific(Profile.class, serdes(), false).serializer())) {
            for (final String name : List.of("alice", "dave")) {
                producer.send(new ProducerRecord<>(appId + ".profiles", "ct|p-" + name, Profile.newBuilder()
                    .setAccountId("ct").setObjectId("p-" + name).setIdentity(name).setCreatedAt(Instant.EPOCH)
                    .setUpdatedAt(Instant.EPOCH).setCreatedBy("platform").build()));
            }
        }
        try (Admin admin = Admin.create(first.adminConfig())) {
            assertThat(ConsumerLag.awaitCaughtUp(admin, appId, List.of(appId + ".profiles",
                appId + "-" + IdentityTopology.INDEX_UPDATES_TOPIC + "-repartition"), Duration.ofMinutes(1))).isTrue();
        }
    }

    /** Both RUNNING, each the active owner of some segment partitions, so queries cross instances. */
    private static void awaitBothRunningWithPartitions() {
        await().atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
            assertThat(first.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
            assertThat(second.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
            assertThat(first.streams().streamsMetadataForStore(MembershipTopology.SEGMENTS_STORE)).hasSize(2)
                .allSatisfy(metadata -> assertThat(metadata.topicPartitions()).isNotEmpty());
        });
    }

    private static void post(final CohortSyncService instance, final ObjectNode body) {
        final HttpTestClient.Response response = new HttpTestClient(instance.httpPort()).post("/webhooks/amplitude",
            body.toString(), "Content-Type", JSON, "X-CleverTap-Account-Id", "ct", "X-CleverTap-Passcode", PASSCODE);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
    }

    private static HttpTestClient.Response get(final CohortSyncService instance, final String path) {
        return new HttpTestClient(instance.httpPort()).get(path, "Authorization", "Bearer " + TOKEN);
    }

    /** A GET whose request line is sent byte for byte, as curl sends it, without the JDK client's URI checks. */
    private static HttpTestClient.Response rawGet(final CohortSyncService instance, final String path) {
        return RawHttp.exchange(instance.httpPort(), "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Authorization: Bearer " + TOKEN + "\r\nConnection: close\r\n\r\n", new byte[0], false);
    }

    /** The first answer that is not a 503 (a rebalance may still be settling). */
    private static HttpTestClient.Response settled(final Supplier<HttpTestClient.Response> call) {
        final HttpTestClient.Response[] last = new HttpTestClient.Response[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            last[0] = call.get();
            return last[0].status() != 503;
        });
        return last[0];
    }

    /** The answer, waiting out 503s (a rebalance may still be settling), never accepting anything but 200. */
    private static JsonNode ok(final CohortSyncService instance, final String path) {
        final HttpTestClient.Response[] last = new HttpTestClient.Response[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            last[0] = get(instance, path);
            assertThat(last[0].status()).as(last[0].body()).isIn(200, 503);
            return last[0].status() == 200;
        });
        return last[0].json();
    }

    private static List<String> cohortIds(final JsonNode segments) {
        return StreamSupport.stream(segments.spliterator(), false).map(s -> s.path("cohortId").asText()).toList();
    }

    private static List<String> objectIds(final JsonNode members) {
        return StreamSupport.stream(members.spliterator(), false).map(m -> m.path("objectId").asText()).toList();
    }

    private static Map<String, Object> serdes() {
        return Map.of("schema.registry.url", "mock://" + SCOPE);
    }
}
