package io.cohortsync.http;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.metrics.CohortSyncMetrics;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.topology.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Without http.token the queries and /metrics are open, protected only by the loopback bind. A web page can still
 * reach them through DNS rebinding: its own name resolves to 127.0.0.1, so the browser sends the page's requests to
 * this server as same-origin, with the page's name in Host. Such a request must be refused before it reads data.
 */
class TokenlessHostCheckTest {

    private static final String SCOPE = "tokenless-host-" + UUID.randomUUID();
    private static CohortSyncHttpServer server;

    @BeforeAll
    static void start() {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of(
            "kafka.bootstrap-servers", "127.0.0.1:1",
            "schema-registry.url", "mock://" + SCOPE,
            "webhook.ack-timeout", "1s"), "accounts:\n  demo:\n    webhook:\n      passcodes: [pc]\n");
        server = CohortSyncHttpServer.start(config, Topics.create(config.topicPrefix(), config.serdeConfig()),
            "127.0.0.1:1", CohortSyncMetrics.prometheus(config.accounts().keySet()));
    }

    @AfterAll
    static void stop() {
        server.close();
        MockSchemaRegistry.drop(SCOPE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/metrics", "/accounts/demo/segments", "/accounts/demo/profiles/p1"})
    void aRequestNamingAnotherHostIsRefusedWithoutAToken(final String path) {
        final HttpTestClient.Response rebound = get(path, "rebind.attacker.example:" + server.port());

        assertThat(rebound.status()).isEqualTo(403);
        assertThat(rebound.json().path("error").asText()).contains("Host").contains("http.token");
        assertThat(rebound.body()).doesNotContain("cohort_sync_");
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "localhost", "LOCALHOST", "127.0.0.2", "[::1]"})
    void theLoopbackNamesStillReachTheOpenEndpoints(final String host) {
        assertThat(get("/metrics", host + ":" + server.port()).status()).isEqualTo(200);
        assertThat(get("/metrics", host).status()).isEqualTo(200);
    }

    @Test
    void aHostThatOnlyStartsLikeLoopbackIsRefused() {
        assertThat(get("/metrics", "127.0.0.1.attacker.example").status()).isEqualTo(403);
        assertThat(get("/metrics", "localhost.attacker.example:" + server.port()).status()).isEqualTo(403);
    }

    @Test
    void healthAndTheWebhookDoNotDependOnHost() {
        assertThat(get("/health/live", "rebind.attacker.example").status()).isEqualTo(200);
        final String head = "POST /webhooks/amplitude HTTP/1.1\r\nHost: hooks.example.com\r\n"
            + "Content-Type: application/json\r\nX-CleverTap-Account-Id: demo\r\nX-CleverTap-Passcode: pc\r\n"
            + "Content-Length: 2\r\nConnection: close\r\n\r\n";
        // A proxy in front of a tokenless instance may forward the webhook with its public name: the passcode guards it.
        assertThat(RawHttp.exchange(server.port(), head, "{}".getBytes(), false).status()).isEqualTo(400);
    }

    private static HttpTestClient.Response get(final String path, final String host) {
        final String head = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
        return RawHttp.exchange(server.port(), head, new byte[0], false);
    }
}
