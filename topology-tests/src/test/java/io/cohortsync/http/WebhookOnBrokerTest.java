package io.cohortsync.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.serde.ConfluentAvroSerde;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import io.cohortsync.testing.TestDirs;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static io.cohortsync.http.AmplitudePayloads.JSON;
import static io.cohortsync.http.AmplitudePayloads.batch;
import static io.cohortsync.http.AmplitudePayloads.device;
import static io.cohortsync.http.AmplitudePayloads.identified;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Amplitude's webhook against the real service on an in-process broker, with a real HTTP client: the events a
 * valid call yields, retries, authentication, every documented 4xx, the split of a 10,000-user batch, health and
 * the metrics.
 */
class WebhookOnBrokerTest {

    private static final String PASSCODE = "webhook-test-passcode";
    private static final int MAX_BODY = 4 * 1024 * 1024;
    private static final String ACCOUNTS = """
        accounts:
          demo:
            webhook:
              passcodes: ["%s"]
        """.formatted(PASSCODE);

    private static final String SCOPE = "webhook-it-" + UUID.randomUUID();
    private static KafkaTestCluster kafka;
    private static CohortSyncService service;
    private static HttpTestClient http;
    private static String prefix;

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaTestCluster.start();
        final String appId = "webhook-it-" + UUID.randomUUID();
        prefix = appId + ".";
        service = CohortSyncService.start(CohortSyncConfig.of(Map.of(
            "kafka.bootstrap-servers", kafka.bootstrapServers(),
            "schema-registry.url", "mock://" + SCOPE,
            "application-id", appId,
            "topic-prefix", prefix,
            "topics.replication-factor", "1",
            "state-dir", TestDirs.create("cohort-sync-webhook-it").toString(),
            "webhook.max-body-bytes", String.valueOf(MAX_BODY)), ACCOUNTS));
        assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
        http = new HttpTestClient(service.httpPort());
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        MockSchemaRegistry.drop(SCOPE);
    }

    @Test
    void aValidWebhookYieldsItsPartnerSyncEventsAndARetryYieldsNoMore() {
        final String payload = batch("c-valid", "Cart Drop off", true, 1_692_206_763L, "m-valid",
            identified("Alice-1"), identified("bob-1"), device("dev-valid-1")).toString();

        final HttpTestClient.Response first = webhook(payload);
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.json().path("accepted").asInt()).isEqualTo(3);
        assertThat(first.json().path("records").asInt()).isEqualTo(1);
        assertThat(eventsOf("c-valid", 3)).hasSize(3);

        assertThat(webhook(payload).status()).isEqualTo(200);
        awaitReports(reports -> reports.stream().anyMatch(r -> r.getMessageId().equals("m-valid") && r.getDuplicate()));

        final List<PartnerSyncEvent> events = read(prefix + "partner-sync", PartnerSyncEvent.class).stream()
            .map(ConsumerRecord::value).filter(e -> "c-valid".equals(e.getProperties().get("Partner Segment ID")))
            .toList();
        assertThat(events).hasSize(3).allSatisfy(event -> {
            assertThat(event.getProperties()).containsEntry("Action", "Added")
                .containsEntry("Partner Segment Name", "Cart Drop off").containsEntry("Partner Name", "Amplitude");
            assertThat(event.getTimestamp().getEpochSecond()).isEqualTo(1_692_206_763L);
        });
        assertThat(events).extracting(PartnerSyncEvent::getObjectId).contains("dev-valid-1");
        assertThat(events).extracting(PartnerSyncEvent::getIdentity).contains("Alice-1", "bob-1");
    }

    @Test
    void aWrongPasscodeOrUnknownAccountIs401AndNothingIsProduced() {
        final String payload = batch("c-unauth", "Nope", true, 1_692_206_763L, "m-unauth", identified("x1"))
            .toString();

        assertThat(http.post("/webhooks/amplitude", payload, "Content-Type", JSON, "X-CleverTap-Account-Id", "demo",
            "X-CleverTap-Passcode", PASSCODE + "x").status()).isEqualTo(401);
        assertThat(http.post("/webhooks/amplitude", payload, "Content-Type", JSON, "X-CleverTap-Account-Id", "demo")
            .status()).isEqualTo(401);
        final HttpTestClient.Response unknown = http.post("/webhooks/amplitude", payload, "Content-Type", JSON,
            "X-CleverTap-Account-Id", "someone-else", "X-CleverTap-Passcode", PASSCODE);
        assertThat(unknown.status()).isEqualTo(401);
        assertThat(unknown.json().path("error").asText()).doesNotContain(PASSCODE);

        assertNothingProducedFor("c-unauth");
    }

    @Test
    void badInputGetsItsDocumented4xxAndTheServiceKeepsServing() throws Exception {
        assertError(webhook("{\"cohort_id\": \"c-bad\", "), 400, null);
        assertError(webhook("{\"in_cohort\": true, \"computed_time\": \"1\", \"message_id\": \"m\", \"users\": []}"),
            400, "cohort_id");
        final ObjectNode stringly = batch("c-bad", "Bad", true, 1L, "m-bad", identified("y1"));
        stringly.put("in_cohort", "true");
        assertError(webhook(stringly.toString()), 400, "in_cohort");
        assertError(http.post("/webhooks/amplitude", batch("c-bad", "Bad", true, 1L, "m-bad").toString(),
            "Content-Type", "text/plain", "X-CleverTap-Account-Id", "demo", "X-CleverTap-Passcode", PASSCODE), 415,
            null);
        assertThat(declaredOversized()).startsWith("HTTP/1.1 413");
        assertError(streamedOversized(), 413, null);
        assertNothingProducedFor("c-bad");

        final HttpTestClient.Response valid = webhook(batch("c-after-errors", "Fine", true, 1_692_206_800L,
            "m-after-errors", identified("carol-9")).toString());
        assertThat(valid.status()).isEqualTo(200);
        awaitReports(reports -> reports.stream().anyMatch(r -> r.getMessageId().equals("m-after-errors")));
    }

    @Test
    void aTenThousandUserBatchIsSplitIntoRecordsThatARetryDedupes() {
        final ObjectNode[] users = IntStream.range(0, 10_000).mapToObj(i -> identified("leaver-" + i))
            .toArray(ObjectNode[]::new);
        final String payload = batch("c-big", "Big", false, 1_692_206_900L, "m-big", users).toString();
        final List<String> parts = IntStream.range(0, 10).mapToObj(i -> "m-big|part-" + i).toList();

        final HttpTestClient.Response first = webhook(payload);
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.json().path("accepted").asInt()).isEqualTo(10_000);
        assertThat(first.json().path("records").asInt()).isEqualTo(10);
        assertThat(first.json().path("messageIds")).extracting(JsonNode::asText).containsExactlyElementsOf(parts);
        final List<CohortSyncRequest> records = read(prefix + "requests", CohortSyncRequest.class).stream()
            .filter(r -> r.key().equals("demo|c-big")).map(ConsumerRecord::value).toList();
        assertThat(records).extracting(CohortSyncRequest::getMessageId).containsExactlyElementsOf(parts);
        assertThat(records).allSatisfy(r -> assertThat(r.getMembers()).hasSize(1000));

        assertThat(webhook(payload).json().path("messageIds")).extracting(JsonNode::asText)
            .containsExactlyElementsOf(parts);
        final List<SyncReport> reports = awaitReports(all -> all.stream()
            .filter(r -> r.getCohortId().equals("c-big")).count() >= 20).stream()
            .filter(r -> r.getCohortId().equals("c-big")).toList();
        assertThat(reports.stream().filter(r -> !r.getDuplicate()))
            .hasSize(10).allSatisfy(r -> assertThat(r.getUnmatched()).isEqualTo(1000));
        assertThat(reports.stream().filter(SyncReport::getDuplicate).map(SyncReport::getMessageId))
            .containsExactlyInAnyOrderElementsOf(parts);
    }

    @Test
    void healthReadinessAndMetricsWithTheServicesOwnCounters() {
        assertThat(http.get("/health/live").status()).isEqualTo(200);
        assertThat(http.get("/health/ready").json().path("status").asText()).isEqualTo("RUNNING");
        assertThat(webhook(batch("c-metrics", "Metrics", true, 1_692_207_000L, "m-metrics", identified("dora-1"))
            .toString()).status()).isEqualTo(200);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new ByteArraySerializer(),
            new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(prefix + "requests", "demo|c-garbage".getBytes(StandardCharsets.UTF_8),
                "not avro".getBytes(StandardCharsets.UTF_8)));
        }

        await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(http.get("/metrics").body())
            .contains("cohort_sync_webhook_requests_total{outcome=\"accepted\"}")
            .contains("cohort_sync_webhook_members_accepted_total{account=\"demo\"}")
            .contains("cohort_sync_members_total{account=\"demo\",outcome=\"created\"}")
            .contains("cohort_sync_partner_sync_events_total{account=\"demo\",action=\"Added\"}")
            .contains("cohort_sync_partner_sync_data_points_total{account=\"demo\"}")
            .contains("cohort_sync_dead_letters_total{reason=\"DESERIALIZATION_FAILED\"}")
            .contains("kafka_stream_thread_")
            .contains("kafka_producer_"));
    }

    private static HttpTestClient.Response webhook(final String body) {
        return http.post("/webhooks/amplitude", body, "Content-Type", JSON + "; charset=utf-8",
            "X-CleverTap-Account-Id", "demo", "X-CleverTap-Passcode", PASSCODE);
    }

    /**
     * A Content-Length one byte over the limit and only the first KiB of the body: refused without reading on.
     * (A raw socket: the JDK 17 client cannot send a length without its body, and hangs on an early answer to
     * Expect: 100-continue. Jetty dispatches once body bytes arrive, so some are sent, as any client would.)
     */
    private static String declaredOversized() throws IOException {
        try (Socket socket = new Socket("127.0.0.1", service.httpPort())) {
            socket.setSoTimeout(30_000);
            final String head = "POST /webhooks/amplitude HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + JSON
                + "\r\nX-CleverTap-Account-Id: demo\r\nX-CleverTap-Passcode: " + PASSCODE + "\r\nContent-Length: "
                + (MAX_BODY + 1) + "\r\n\r\n";
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(new byte[1024]);
            socket.getOutputStream().flush();
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
                .readLine();
        }
    }

    /** One byte over the limit, streamed without a length (chunked): refused once the limit is passed. */
    private static HttpTestClient.Response streamedOversized() {
        final byte[] body = new byte[MAX_BODY + 1];
        Arrays.fill(body, (byte) ' ');
        return http.send(HttpRequest.newBuilder(URI.create(http.base() + "/webhooks/amplitude"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))),
            "Content-Type", JSON, "X-CleverTap-Account-Id", "demo", "X-CleverTap-Passcode", PASSCODE);
    }

    private static void assertError(final HttpTestClient.Response response, final int status, final String field) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        assertThat(response.json().path("error").asText()).isNotBlank();
        if (field == null) {
            assertThat(response.json().has("field")).isFalse();
        } else {
            assertThat(response.json().path("field").asText()).isEqualTo(field);
        }
    }

    /** The webhook answers only after the broker acknowledged, so "nothing yet" after a 4xx means nothing. */
    private static void assertNothingProducedFor(final String cohortId) {
        assertThat(read(prefix + "requests", CohortSyncRequest.class))
            .noneSatisfy(r -> assertThat(r.key()).endsWith("|" + cohortId));
        assertThat(read(prefix + "dlq", DeadLetter.class)).noneSatisfy(r -> assertThat(r.value().getKey() == null ? ""
            : StandardCharsets.UTF_8.decode(r.value().getKey().duplicate()).toString()).endsWith("|" + cohortId));
    }

    private static List<PartnerSyncEvent> eventsOf(final String cohortId, final int atLeast) {
        return TopicContents.readUntil(kafka.bootstrapServers(), prefix + "partner-sync",
                deserializer(PartnerSyncEvent.class), records -> records.stream()
                    .filter(r -> cohortId.equals(r.value().getProperties().get("Partner Segment ID")))
                    .count() >= atLeast, Duration.ofMinutes(1)).stream()
            .map(ConsumerRecord::value).filter(e -> cohortId.equals(e.getProperties().get("Partner Segment ID")))
            .collect(Collectors.toList());
    }

    private static List<SyncReport> awaitReports(final Predicate<List<SyncReport>> done) {
        return TopicContents.readUntil(kafka.bootstrapServers(), prefix + "sync-reports",
                deserializer(SyncReport.class),
                records -> done.test(records.stream().map(ConsumerRecord::value).toList()), Duration.ofMinutes(2))
            .stream().map(ConsumerRecord::value).toList();
    }

    private static <V extends SpecificRecord> List<ConsumerRecord<String, V>> read(final String topic,
                                                                                  final Class<V> type) {
        return TopicContents.readToEnd(kafka.bootstrapServers(), topic, deserializer(type)).stream()
            .filter(r -> r.value() != null).toList();
    }

    /** Skips what does not decode (the metrics test writes a garbage request on purpose). */
    private static <V extends SpecificRecord> Deserializer<V> deserializer(final Class<V> type) {
        final Deserializer<V> avro = ConfluentAvroSerde.specific(type, Map.of("schema.registry.url", "mock://" + SCOPE),
            false).deserializer();
        return (topic, bytes) -> {
            try {
                return avro.deserialize(topic, bytes);
            } catch (final RuntimeException e) {
                return null;
            }
        };
    }
}
