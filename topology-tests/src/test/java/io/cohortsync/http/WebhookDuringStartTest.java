package io.cohortsync.http;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.metrics.CohortSyncMetrics;
import io.cohortsync.runtime.TopicBootstrapper;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import io.cohortsync.topology.Topics;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP server binds before the service has checked or created its topics (its port is the application.server of
 * Kafka Streams). A webhook call in that window must not be written: on a broker with auto.create.topics.enable (Kafka's
 * default) the producer's first write would create the requests topic with the broker's partition count and
 * replication factor, and the service would then leave that topic alone.
 */
class WebhookDuringStartTest {

    private static final String SCOPE = "webhook-during-start-" + UUID.randomUUID();
    private static final String ACCOUNTS = """
        accounts:
          demo:
            webhook:
              passcodes: ["start-passcode"]
        """;

    private static KafkaTestCluster kafka;

    @BeforeAll
    static void startKafka() {
        kafka = KafkaTestCluster.start(Map.of("auto.create.topics.enable", "true", "num.partitions", "1"));
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
        MockSchemaRegistry.drop(SCOPE);
    }

    @Test
    void aWebhookBeforeTheTopicsAreCheckedIsARetryable503AndCreatesNoTopic() throws Exception {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of(
            "kafka.bootstrap-servers", kafka.bootstrapServers(),
            "schema-registry.url", "mock://" + SCOPE,
            "topology.partitions", "4",
            "topics.replication-factor", "1",
            "webhook.ack-timeout", "5s"), ACCOUNTS);
        final Topics topics = Topics.create(config.topicPrefix(), config.serdeConfig());
        try (CohortSyncHttpServer server = CohortSyncHttpServer.start(config, topics, kafka.bootstrapServers(),
            CohortSyncMetrics.prometheus(config.accounts().keySet()))) {
            final HttpTestClient http = new HttpTestClient(server.port());

            final HttpTestClient.Response starting = webhook(http, "m-start-1");

            assertThat(starting.status()).isEqualTo(503);
            assertThat(starting.json().path("retryable").asBoolean()).isTrue();
            assertThat(starting.header("Retry-After")).isPresent();
            assertThat(topicNames()).doesNotContain(topics.requests.name());

            // What the service does next: its own topics, then the webhook opens.
            TopicBootstrapper.ensureTopics(kafka.admin(), topics, config.partitions(), config.replicationFactor(),
                config.maxRecordBytes());
            server.openIngest();

            assertThat(webhook(http, "m-start-2").status()).isEqualTo(200);
            final TopicDescription requests = kafka.admin().describeTopics(Set.of(topics.requests.name()))
                .allTopicNames().get(30, TimeUnit.SECONDS).get(topics.requests.name());
            assertThat(requests.partitions()).hasSize(4);
        }
    }

    private static HttpTestClient.Response webhook(final HttpTestClient http, final String messageId) {
        final String body = AmplitudePayloads.batch("c-start", "Starting", true, 1_700_000_000L, messageId,
            AmplitudePayloads.identified("someone")).toString();
        return http.post("/webhooks/amplitude", body, "Content-Type", "application/json",
            "X-CleverTap-Account-Id", "demo", "X-CleverTap-Passcode", "start-passcode");
    }

    private static Set<String> topicNames() throws Exception {
        return kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS);
    }
}
