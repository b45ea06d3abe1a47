package io.cohortsync.broker;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The real service on one in-process broker per class: every test gets its own application id, topic prefix
 * ({@code <appId>.}), in-memory registry scope and state directory, and account {@code ct} (CREATE_UNMATCHED).
 */
abstract class ServiceOnBrokerTest {

    static final String ACCOUNTS = """
        accounts:
          ct:
            import:
              policy: CREATE_UNMATCHED
        """;

    static KafkaTestCluster kafka;

    @TempDir
    Path stateDir;

    String appId;
    String prefix;

    @BeforeAll
    static void startKafka() {
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    /** What each test's application id starts with. */
    abstract String appIdPrefix();

    @BeforeEach
    void names() {
        appId = appIdPrefix() + "-" + UUID.randomUUID().toString().substring(0, 8);
        prefix = appId + ".";
    }

    @AfterEach
    void dropRegistry() {
        MockSchemaRegistry.drop(appId);
    }

    /** The in-memory registry this test's service uses, for its own serdes. */
    Map<String, Object> serdeConfig() {
        return Map.of("schema.registry.url", "mock://" + appId);
    }

    CohortSyncConfig config() {
        return config(Map.of());
    }

    /** This test's settings (4 partitions, replication factor 1, any free HTTP port), then {@code overrides}. */
    CohortSyncConfig config(final Map<String, String> overrides) {
        final Map<String, String> settings = new LinkedHashMap<>(Map.of(
            "kafka.bootstrap-servers", kafka.bootstrapServers(),
            "schema-registry.url", "mock://" + appId,
            "application-id", appId,
            "topic-prefix", prefix,
            "topology.partitions", "4",
            "topics.replication-factor", "1",
            "state-dir", stateDir.toString(),
            "http.port", "0"));
        settings.putAll(overrides);
        return CohortSyncConfig.of(settings, ACCOUNTS);
    }
}
