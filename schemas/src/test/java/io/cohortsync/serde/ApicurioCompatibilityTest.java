package io.cohortsync.serde;

import static io.cohortsync.serde.AvroTestSchemas.GREETING_V1;
import static io.cohortsync.serde.AvroTestSchemas.GREETING_V2;
import static io.cohortsync.serde.AvroTestSchemas.greetingV1;
import static io.cohortsync.serde.AvroTestSchemas.greetingV2;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortsync.avro.Member;
import io.cohortsync.serde.testing.ApicurioRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The serde against a real Confluent-compatible registry: Apicurio Registry 3's ccompat API, started once. */
class ApicurioCompatibilityTest {

    private static ApicurioRegistry registry;

    @BeforeAll
    static void startRegistry() {
        registry = ApicurioRegistry.startNew();
    }

    @AfterAll
    static void stopRegistry() {
        if (registry != null) {
            registry.close();
        }
    }

    private static Map<String, Object> configs() {
        final Map<String, Object> configs = new HashMap<>();
        configs.put(SchemaRegistryConfig.SCHEMA_REGISTRY_URL, registry.ccompatUrl());
        return configs;
    }

    private static String uniqueTopic(final String name) {
        return name + '-' + UUID.randomUUID();
    }

    @Test
    void independentSerdesExchangeRecordsThroughTheRegistry() throws Exception {
        final String topic = uniqueTopic("members");
        final Member member = Member.newBuilder().setUserId("u1").setUserProperties(Map.of("k", "v")).build();
        final ConfluentAvroSerde<Member> producerSide = ConfluentAvroSerde.specific(Member.class, configs(), false);
        final ConfluentAvroSerde<Member> consumerSide = ConfluentAvroSerde.specific(Member.class, configs(), false);

        final byte[] bytes = producerSide.serializer().serialize(topic, member);

        assertThat(bytes[0]).isZero();
        assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(latestId(topic + "-value"));
        assertThat(consumerSide.deserializer().deserialize(topic, bytes)).isEqualTo(member);
    }

    @Test
    void evolvesSchemasInBothDirections() {
        final String topic = uniqueTopic("greetings");
        final ConfluentAvroSerde<GenericRecord> writer = ConfluentAvroSerde.generic();
        writer.configure(configs(), false);
        final ConfluentAvroSerde<GenericRecord> v1Reader = ConfluentAvroSerde.generic(GREETING_V1);
        v1Reader.configure(configs(), false);
        final ConfluentAvroSerde<GenericRecord> v2Reader = ConfluentAvroSerde.generic(GREETING_V2);
        v2Reader.configure(configs(), false);

        final byte[] v1Bytes = writer.serializer().serialize(topic, greetingV1("hi"));
        final byte[] v2Bytes = writer.serializer().serialize(topic, greetingV2("hey", "n"));

        assertThat(ByteBuffer.wrap(v2Bytes, 1, 4).getInt()).isNotEqualTo(ByteBuffer.wrap(v1Bytes, 1, 4).getInt());
        final GenericRecord v1AsV2 = v2Reader.deserializer().deserialize(topic, v1Bytes);
        assertThat(v1AsV2.get("text")).hasToString("hi");
        assertThat(v1AsV2.get("note")).isNull();
        final GenericRecord v2AsV1 = v1Reader.deserializer().deserialize(topic, v2Bytes);
        assertThat(v2AsV1.get("text")).hasToString("hey");
        assertThat(v2AsV1.hasField("note")).isFalse();
    }

    @Test
    void unknownIdsAndUnregisteredSchemasAreReportedAsSuch() {
        final ConfluentAvroSerde<Member> serde = ConfluentAvroSerde.specific(Member.class, configs(), false);
        assertThatThrownBy(() -> serde.deserializer().deserialize("t", new byte[] {0, 0x7f, 0, 0, 1, 0}))
                .isInstanceOf(UnknownSchemaIdException.class);

        final Map<String, Object> lookupOnly = configs();
        lookupOnly.put(SchemaRegistryConfig.AUTO_REGISTER_SCHEMAS, false);
        final String topic = uniqueTopic("unregistered");
        assertThatThrownBy(() -> ConfluentAvroSerde.specific(Member.class, lookupOnly, false).serializer()
                .serialize(topic, Member.newBuilder().build()))
                .isInstanceOf(UnknownSchemaException.class)
                .hasMessageContaining(topic + "-value");
    }

    @Test
    void cachedSchemasOutliveAnOutageAndIdsSurviveARestart() {
        final String topic = uniqueTopic("outage");
        final Map<String, Object> configs = configs();
        configs.put(SchemaRegistryConfig.REQUEST_TIMEOUT_MS, 2_000);
        final ConfluentAvroSerde<GenericRecord> serde = ConfluentAvroSerde.generic();
        serde.configure(configs, false);
        final byte[] before = serde.serializer().serialize(topic, greetingV1("before"));

        registry.stop();
        try {
            assertThat(serde.serializer().serialize(topic, greetingV1("during"))).startsWith(before[0], before[1],
                    before[2], before[3], before[4]);
            assertThatThrownBy(() -> serde.serializer().serialize(topic, greetingV2("new schema", null)))
                    .isInstanceOf(SchemaRegistryUnavailableException.class)
                    .hasMessageContaining(registry.ccompatUrl());
        } finally {
            registry.start();
        }

        final ConfluentAvroSerde<GenericRecord> fresh = ConfluentAvroSerde.generic();
        fresh.configure(configs, false);
        assertThat(fresh.deserializer().deserialize(topic, before).get("text")).hasToString("before");
    }

    private static int latestId(final String subject) throws Exception {
        final HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(registry.ccompatUrl() + "/subjects/" + subject + "/versions/latest")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        final JsonNode answer = new ObjectMapper().readTree(response.body());
        return answer.get("id").asInt();
    }
}
