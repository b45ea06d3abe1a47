package io.cohortsync.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cohortsync.avro.Member;
import io.cohortsync.avro.Profile;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MockSchemaRegistryTest {

    private final String scope = "mock-" + UUID.randomUUID();

    @AfterEach
    void dropScope() {
        MockSchemaRegistry.drop(scope);
    }

    @Test
    void assignsIdsFromOneAndReusesThemAcrossSubjects() {
        final MockSchemaRegistry registry = MockSchemaRegistry.scope(scope);

        assertThat(registry.register("a-value", Member.SCHEMA$)).isEqualTo(1);
        assertThat(registry.register("a-value", Member.SCHEMA$)).isEqualTo(1);
        assertThat(registry.register("b-value", Member.SCHEMA$)).isEqualTo(1);
        assertThat(registry.register("b-value", Profile.SCHEMA$)).isEqualTo(2);
        assertThat(registry.schemaById(2)).isEqualTo(Profile.SCHEMA$);
        assertThat(registry.lookupId("b-value", Member.SCHEMA$)).isEqualTo(1);
    }

    @Test
    void lookupOfASchemaNotUnderTheSubjectFails() {
        final MockSchemaRegistry registry = MockSchemaRegistry.scope(scope);
        registry.register("a-value", Member.SCHEMA$);

        assertThatThrownBy(() -> registry.lookupId("other-value", Member.SCHEMA$))
                .isInstanceOf(UnknownSchemaException.class)
                .hasMessageContaining("other-value");
    }

    @Test
    void clientsOfOneScopeShareItAndDropStartsOver() {
        final SchemaRegistryClient first = SchemaRegistryClient.create(config());
        first.register("a-value", Member.SCHEMA$);
        first.register("a-value", Profile.SCHEMA$);

        assertThat(SchemaRegistryClient.create(config()).schemaById(2)).isEqualTo(Profile.SCHEMA$);

        MockSchemaRegistry.drop(scope);
        assertThatThrownBy(() -> SchemaRegistryClient.create(config()).schemaById(2))
                .isInstanceOf(UnknownSchemaIdException.class);
        assertThat(SchemaRegistryClient.create(config()).register("x-value", Profile.SCHEMA$)).isEqualTo(1);
    }

    private SchemaRegistryConfig config() {
        return new SchemaRegistryConfig(Map.of(SchemaRegistryConfig.SCHEMA_REGISTRY_URL, "mock://" + scope));
    }
}
