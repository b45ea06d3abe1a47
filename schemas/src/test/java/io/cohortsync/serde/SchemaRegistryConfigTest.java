package io.cohortsync.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class SchemaRegistryConfigTest {

    @Test
    void readsKafkaStyleSettingsWithDefaults() {
        final SchemaRegistryConfig config = new SchemaRegistryConfig(Map.of(
                "schema.registry.url", " http://a:8081/ , http://b:8081"));

        assertThat(config.urls()).containsExactly("http://a:8081", "http://b:8081");
        assertThat(config.autoRegisterSchemas()).isTrue();
        assertThat(config.credentialsSource()).isEqualTo(SchemaRegistryConfig.CredentialsSource.URL);
        assertThat(config.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.mockScope()).isEmpty();
    }

    @Test
    void acceptsListsNumbersAndBooleans() {
        final SchemaRegistryConfig config = new SchemaRegistryConfig(Map.of(
                "schema.registry.url", List.of("https://u:p@registry/path"),
                "auto.register.schemas", false,
                "basic.auth.user.info", "alice:s3cr3t",
                "schema.registry.request.timeout.ms", 1500,
                "schema.registry.connect.timeout.ms", "250"));

        assertThat(config.urls()).containsExactly("https://registry/path");
        assertThat(config.autoRegisterSchemas()).isFalse();
        assertThat(config.credentialsSource()).isEqualTo(SchemaRegistryConfig.CredentialsSource.USER_INFO);
        assertThat(config.requestTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(config.connectTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.toString()).doesNotContain("s3cr3t", "alice", "u:p");
    }

    @Test
    void rejectsMissingOrBadSettingsWithoutEchoingSecrets() {
        assertThatThrownBy(() -> new SchemaRegistryConfig(Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("schema.registry.url");
        assertThatThrownBy(() -> new SchemaRegistryConfig(Map.of("schema.registry.url", "ftp://u:hunter2@x")))
                .isInstanceOf(ConfigException.class)
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> new SchemaRegistryConfig(Map.of("schema.registry.url", "http://x",
                "basic.auth.credentials.source", "USER_INFO")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("basic.auth.user.info");
        assertThatThrownBy(() -> new SchemaRegistryConfig(Map.of("schema.registry.url", "mock://a,http://x")))
                .isInstanceOf(ConfigException.class);
    }

    @Test
    void neverEchoesAPasswordHoldingTheCharactersThatEndAUrlsUserInfo() {
        for (final String password : new String[] {"ab/cd+ef", "p#ss", "p?ss", "123/abc"}) {
            assertThatThrownBy(() -> new SchemaRegistryConfig(Map.of("schema.registry.url",
                    "https://KEY:" + password + "@registry.example:443")))
                    .as(password)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("registry.example")
                    .hasMessageNotContaining(password);
        }
    }

    @Test
    void refusesConfluentSettingsItCannotHonourAndMisspeltOnesInsteadOfIgnoringThem() {
        final Map<String, String> refused = Map.of(
                "value.subject.name.strategy", "io.confluent.kafka.serializers.subject.RecordNameStrategy",
                "use.latest.version", "true",
                "schema.registry.ssl.truststore.location", "/etc/ca.jks",
                "bearer.auth.credentials.source", "STATIC_TOKEN",
                "auto.register.schema", "false",
                "use.schema.id", "3",
                "normalize.schemas", "true",
                "schema.registry.proxy.host", "proxy.internal");
        refused.forEach((key, value) -> assertThatThrownBy(() -> new SchemaRegistryConfig(Map.of(
                "schema.registry.url", "http://x", key, value)))
                .as(key)
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(key));
        assertThatThrownBy(() -> new SchemaRegistryConfig(Map.of("schema.registry.url", "http://x",
                "auto.register.schema", "false")))
                .hasMessageContaining("did you mean 'auto.register.schemas'");
        assertThatThrownBy(() -> new SchemaRegistryConfig(Map.of("schema.registry.url", "http://x",
                "schema.registry.ssl.truststore.password", "hunter2")))
                .hasMessageContaining("javax.net.ssl.trustStore")
                .hasMessageNotContaining("hunter2");

        final SchemaRegistryConfig defaults = new SchemaRegistryConfig(Map.of("schema.registry.url", "http://x",
                "value.subject.name.strategy", "io.confluent.kafka.serializers.subject.TopicNameStrategy",
                "use.latest.version", "false", "bootstrap.servers", "kafka:9092"));
        assertThat(defaults.urls()).containsExactly("http://x");
    }

    @Test
    void takesConfluentsOlderUserInfoKeyAndChecksUserInfoWhateverItsSource() {
        final SchemaRegistryConfig legacy = new SchemaRegistryConfig(Map.of("schema.registry.url", "http://x",
                SchemaRegistryConfig.LEGACY_BASIC_AUTH_USER_INFO, "alice:s3cr3t"));
        assertThat(legacy.credentialsSource()).isEqualTo(SchemaRegistryConfig.CredentialsSource.USER_INFO);
        assertThat(legacy.authorizationHeader("http://x")).contains("Basic " + java.util.Base64.getEncoder()
                .encodeToString("alice:s3cr3t".getBytes(java.nio.charset.StandardCharsets.UTF_8)));

        assertThatThrownBy(() -> new SchemaRegistryConfig(Map.of("schema.registry.url", "http://x",
                "basic.auth.user.info", "api-key-without-secret")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("user:password")
                .hasMessageNotContaining("api-key-without-secret");
    }

    @Test
    void recognisesMockUrls() {
        assertThat(new SchemaRegistryConfig(Map.of("schema.registry.url", "mock://tests")).mockScope())
                .contains("tests");
    }
}
