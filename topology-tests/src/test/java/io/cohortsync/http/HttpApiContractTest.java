package io.cohortsync.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.metrics.CohortSyncMetrics;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.topology.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;

import static io.cohortsync.http.AmplitudePayloads.JSON;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP contract that needs no Kafka: the OpenAPI description lists exactly the routes served, errors are JSON,
 * the token and passcodes are enforced, queries and readiness wait for Kafka Streams, and a webhook that Kafka
 * does not acknowledge is a retryable 503. Kafka is an unused port here.
 */
class HttpApiContractTest {

    private static final String TOKEN = "query-token-for-tests";
    private static final String ACCOUNTS = """
        accounts:
          demo:
            webhook:
              passcodes: ["old-passcode", "${NEW_PASSCODE:-new-passcode}"]
          no-webhook: {}
        """;

    private static final String SCOPE = "http-contract-" + UUID.randomUUID();
    private static CohortSyncHttpServer server;
    private static HttpTestClient http;
    private static CohortSyncMetrics metrics;

    @BeforeAll
    static void start() {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of(
            "kafka.bootstrap-servers", "127.0.0.1:1",
            "schema-registry.url", "mock://" + SCOPE,
            "http.token", TOKEN,
            "http.host", "127.0.0.1",
            "webhook.ack-timeout", "1s"), ACCOUNTS);
        metrics = CohortSyncMetrics.prometheus(config.accounts().keySet());
        server = CohortSyncHttpServer.start(config, Topics.create(config.topicPrefix(), config.serdeConfig()),
            "127.0.0.1:1", metrics);
        // As the service does once its topics are checked: the webhook then waits on Kafka's acknowledgement.
        server.openIngest();
        http = new HttpTestClient(server.port());
    }

    @AfterAll
    static void stop() {
        server.close();
        MockSchemaRegistry.drop(SCOPE);
    }

    @Test
    void theOpenApiDescriptionListsExactlyTheRoutesServed() throws Exception {
        final HttpTestClient.Response response = http.get("/openapi.yaml");
        assertThat(response.status()).isEqualTo(200);
        final JsonNode openApi = new ObjectMapper(new YAMLFactory()).readTree(response.body());
        final Set<String> documented = new TreeSet<>();
        openApi.path("paths").fields().forEachRemaining(path -> path.getValue().fieldNames()
            .forEachRemaining(method -> documented.add(method.toUpperCase() + " " + path.getKey())));
        final Set<String> served = server.routes().stream().map(r -> r.method() + " " + r.path())
            .collect(Collectors.toCollection(TreeSet::new));

        assertThat(served).hasSize(10);
        assertThat(documented).isEqualTo(served);
    }

    @Test
    void healthIsOpenAndReadinessWaitsForKafkaStreams() {
        assertThat(http.get("/health/live").status()).isEqualTo(200);
        final HttpTestClient.Response ready = http.get("/health/ready");
        assertThat(ready.status()).isEqualTo(503);
        assertThat(ready.json().path("status").asText()).isEqualTo("STARTING");
        assertThat(ready.header("Retry-After")).isPresent();
    }

    @Test
    void livenessIsDownOnceTheExporterHasStoppedOnAnError() {
        try {
            server.watchExporter(() -> new IllegalStateException("the loop failed"));
            final HttpTestClient.Response live = http.get("/health/live");
            assertThat(live.status()).isEqualTo(503);
            assertThat(live.json().path("status").asText()).isEqualTo("DOWN");
            assertThat(live.json().path("exporter").asText()).contains("IllegalStateException");
        } finally {
            server.watchExporter(() -> null);
        }
        assertThat(http.get("/health/live").json().path("status").asText()).isEqualTo("UP");
    }

    @Test
    void queriesAndMetricsNeedTheTokenAndQueriesWaitForKafkaStreams() {
        final HttpTestClient.Response anonymous = http.get("/accounts/demo/segments");
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.header("WWW-Authenticate")).contains("Bearer");
        assertThat(http.get("/accounts/demo/segments", "Authorization", "Bearer wrong").status()).isEqualTo(401);
        assertThat(http.get("/metrics").status()).isEqualTo(401);

        final HttpTestClient.Response starting =
            http.get("/accounts/demo/segments", "Authorization", "Bearer " + TOKEN);
        assertThat(starting.status()).isEqualTo(503);
        assertThat(starting.json().path("retryable").asBoolean()).isTrue();
        assertThat(starting.header("Retry-After")).contains("1");
        assertThat(http.get("/metrics", "Authorization", "Bearer " + TOKEN).status()).isEqualTo(200);
    }

    @Test
    void unknownPathsAndMethodsAreJsonErrors() {
        final HttpTestClient.Response wrongMethod = http.get("/webhooks/amplitude");
        assertThat(wrongMethod.status()).isEqualTo(405);
        assertThat(wrongMethod.json().path("error").asText()).contains("GET");
        final HttpTestClient.Response unknown = http.get("/nothing/here");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().path("error").asText()).contains("/nothing/here");
    }

    @Test
    void everyPasscodeOfTheAccountIsAcceptedAndNothingElse() {
        final String body = "{not json";
        assertThat(webhook(body, "demo", "old-passcode").status()).isEqualTo(400);
        assertThat(webhook(body, "demo", "new-passcode").status()).isEqualTo(400);
        assertThat(webhook(body, "demo", "old-passcode-").status()).isEqualTo(401);
        assertThat(webhook(body, "demo", "").status()).isEqualTo(401);
        assertThat(webhook(body, "no-webhook", "old-passcode").status()).isEqualTo(401);
        assertThat(webhook(body, "nobody", "old-passcode").status()).isEqualTo(401);
        assertThat(http.post("/webhooks/amplitude", body, "Content-Type", JSON).status()).isEqualTo(401);
    }

    @Test
    void aWebhookKafkaDoesNotAcknowledgeIsARetryable503() {
        final String body = AmplitudePayloads.batch("c-503", "Unlucky", true, 1_700_000_000L, "m-503",
            AmplitudePayloads.identified("someone")).toString();

        final HttpTestClient.Response response = webhook(body, "demo", "old-passcode");

        assertThat(response.status()).isEqualTo(503);
        assertThat(response.json().path("retryable").asBoolean()).isTrue();
        assertThat(response.header("Retry-After")).isPresent();
        assertThat(metrics.scrape()).contains("cohort_sync_webhook_requests_total{outcome=\"unavailable\"}");
    }

    private static HttpTestClient.Response webhook(final String body, final String account, final String passcode) {
        return http.post("/webhooks/amplitude", body, "Content-Type", JSON,
            "X-CleverTap-Account-Id", account, "X-CleverTap-Passcode", passcode);
    }
}
