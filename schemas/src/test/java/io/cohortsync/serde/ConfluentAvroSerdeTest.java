package io.cohortsync.serde;

import static io.cohortsync.serde.AvroTestSchemas.GREETING_V1;
import static io.cohortsync.serde.AvroTestSchemas.GREETING_V2;
import static io.cohortsync.serde.AvroTestSchemas.greetingV1;
import static io.cohortsync.serde.AvroTestSchemas.greetingV2;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConfluentAvroSerdeTest {

    private final String scope = "serde-" + UUID.randomUUID();

    @AfterEach
    void dropScope() {
        MockSchemaRegistry.drop(scope);
    }

    private Map<String, Object> configs() {
        final Map<String, Object> configs = new HashMap<>();
        configs.put(SchemaRegistryConfig.SCHEMA_REGISTRY_URL, "mock://" + scope);
        return configs;
    }

    private ConfluentAvroSerde<GenericRecord> generic(final org.apache.avro.Schema reader) {
        final ConfluentAvroSerde<GenericRecord> serde = ConfluentAvroSerde.generic(reader);
        serde.configure(configs(), false);
        return serde;
    }

    @Test
    void roundTripsGeneratedRecordsAcrossSerdeInstances() {
        final Member member = Member.newBuilder().setUserId("u1").setDeviceId("d1").build();

        final byte[] bytes = ConfluentAvroSerde.specific(Member.class, configs(), false).serializer().serialize("t", member);

        assertThat(ConfluentAvroSerde.specific(Member.class, configs(), false).deserializer().deserialize("t", bytes))
                .isEqualTo(member);
    }

    @Test
    void readsNewerWritersWithAnOlderReaderAndViceVersa() {
        final byte[] v1Bytes = generic(null).serializer().serialize("greetings", greetingV1("hi"));
        final byte[] v2Bytes = generic(null).serializer().serialize("greetings", greetingV2("hey", "n"));

        final GenericRecord v1ReadAsV2 = generic(GREETING_V2).deserializer().deserialize("greetings", v1Bytes);
        final GenericRecord v2ReadAsV1 = generic(GREETING_V1).deserializer().deserialize("greetings", v2Bytes);

        assertThat(v1ReadAsV2.getSchema()).isEqualTo(GREETING_V2);
        assertThat(v1ReadAsV2.get("text")).hasToString("hi");
        assertThat(v1ReadAsV2.get("note")).isNull();
        assertThat(v2ReadAsV1.getSchema()).isEqualTo(GREETING_V1);
        assertThat(v2ReadAsV1.get("text")).hasToString("hey");
        assertThat(v2ReadAsV1.hasField("note")).isFalse();
    }

    @Test
    void usesTopicNameStrategyForKeysAndValues() {
        final ConfluentAvroSerde<GenericRecord> keys = ConfluentAvroSerde.generic();
        keys.configure(configs(), true);

        keys.serializer().serialize("orders", greetingV1("k"));
        generic(null).serializer().serialize("orders", greetingV1("v"));

        assertThat(MockSchemaRegistry.scope(scope).subjects()).containsExactlyInAnyOrder("orders-key", "orders-value");
    }

    @Test
    void withoutAutoRegisterNamesTheSubjectOfAMissingSchema() {
        final Map<String, Object> configs = configs();
        configs.put(SchemaRegistryConfig.AUTO_REGISTER_SCHEMAS, "false");
        final ConfluentAvroSerde<Member> serde = ConfluentAvroSerde.specific(Member.class, configs, false);

        assertThatThrownBy(() -> serde.serializer().serialize("members", Member.newBuilder().build()))
                .isInstanceOf(UnknownSchemaException.class)
                .hasMessageContaining("'members-value'")
                .hasMessageContaining("auto.register.schemas is false");

        MockSchemaRegistry.scope(scope).register("members-value", Member.SCHEMA$);
        assertThat(serde.serializer().serialize("members", Member.newBuilder().build())).startsWith(0, 0, 0, 0, 1);
    }

    @Test
    void specificAvroReaderFindsTheGeneratedClassByName() {
        final Member member = Member.newBuilder().setAmplitudeId("42").build();
        final byte[] bytes = ConfluentAvroSerde.specific(Member.class, configs(), false).serializer().serialize("t", member);
        final Map<String, Object> configs = configs();
        configs.put(SchemaRegistryConfig.SPECIFIC_AVRO_READER, true);
        final ConfluentAvroDeserializer<Object> deserializer = new ConfluentAvroDeserializer<>();
        deserializer.configure(configs, false);

        assertThat(deserializer.deserialize("t", bytes)).isEqualTo(member);
    }

    @Test
    void reportsAnIncompatibleWriterWithTopicAndId() {
        final byte[] member = ConfluentAvroSerde.specific(Member.class, configs(), false)
                .serializer().serialize("t", Member.newBuilder().build());
        final ConfluentAvroSerde<CohortSyncRequest> requests = ConfluentAvroSerde.specific(CohortSyncRequest.class,
                configs(), false);

        assertThatThrownBy(() -> requests.deserializer().deserialize("t", member))
                .isInstanceOf(IncompatibleSchemaException.class)
                .hasMessageContaining("topic 't'")
                .hasMessageContaining("schema id 1")
                .hasMessageContaining("io.cohortsync.avro.Member")
                .hasMessageContaining("io.cohortsync.avro.CohortSyncRequest");
    }

    @Test
    void refusesAWriterOfAnotherRecordTypeEvenWhenItsFieldsWouldResolve() {
        final org.apache.avro.Schema salutation = new org.apache.avro.Schema.Parser().parse("""
                {"type": "record", "name": "Salutation", "namespace": "io.cohortsync.serde.test",
                 "fields": [{"name": "text", "type": "string"}]}
                """);
        final byte[] greeting = generic(null).serializer().serialize("greetings", greetingV1("hi"));

        assertThatThrownBy(() -> generic(salutation).deserializer().deserialize("greetings", greeting))
                .isInstanceOf(IncompatibleSchemaException.class)
                .hasMessageContaining("NAME_MISMATCH")
                .satisfies(e -> assertThat(((IncompatibleSchemaException) e).schemaId()).isEqualTo(1));
    }

    /**
     * Changes Confluent's BACKWARD check allows a producer (a new enum symbol, a field made nullable) touch only some
     * records: the others are read, as Confluent's deserializer reads them; those touched are refused as incompatible.
     */
    @Test
    void readsEveryRecordAnIncompatibleWriterSchemaCanStillFillAndRefusesOnlyTheOthers() {
        final org.apache.avro.Schema reader = new org.apache.avro.Schema.Parser().parse("""
                {"type": "record", "name": "Change", "namespace": "io.cohortsync.serde.test", "fields": [
                  {"name": "cohort", "type": "string"},
                  {"name": "op", "type": {"type": "enum", "name": "Op", "symbols": ["ADD", "REMOVE"]}}]}
                """);
        final org.apache.avro.Schema writer = new org.apache.avro.Schema.Parser().parse("""
                {"type": "record", "name": "Change", "namespace": "io.cohortsync.serde.test", "fields": [
                  {"name": "cohort", "type": ["null", "string"]},
                  {"name": "op", "type": {"type": "enum", "name": "Op", "symbols": ["ADD", "REMOVE", "REPLACE"]}}]}
                """);
        final ConfluentAvroSerializer<Object> serializer = new ConfluentAvroSerializer<>(MockSchemaRegistry.scope(scope));
        final org.apache.kafka.common.serialization.Deserializer<GenericRecord> deserializer =
                generic(reader).deserializer();

        final GenericRecord read = deserializer.deserialize("changes",
                serializer.serialize("changes", change(writer, "c1", "ADD")));

        assertThat(read.get("cohort")).hasToString("c1");
        assertThat(read.get("op")).hasToString("ADD");
        assertThatThrownBy(() -> deserializer.deserialize("changes",
                serializer.serialize("changes", change(writer, "c1", "REPLACE"))))
                .isInstanceOf(IncompatibleSchemaException.class)
                .hasMessageContaining("MISSING_ENUM_SYMBOLS")
                .hasMessageContaining("REPLACE");
        assertThatThrownBy(() -> deserializer.deserialize("changes",
                serializer.serialize("changes", change(writer, null, "ADD"))))
                .isInstanceOf(IncompatibleSchemaException.class)
                .hasMessageContaining("TYPE_MISMATCH");
    }

    private static GenericRecord change(final org.apache.avro.Schema schema, final String cohort, final String op) {
        final GenericRecord record = new org.apache.avro.generic.GenericData.Record(schema);
        record.put("cohort", cohort);
        record.put("op", new org.apache.avro.generic.GenericData.EnumSymbol(schema.getField("op").schema(), op));
        return record;
    }

    @Test
    void refusesNonAvroData() {
        final ConfluentAvroSerializer<Object> serializer = new ConfluentAvroSerializer<>(MockSchemaRegistry.scope(scope));

        assertThatThrownBy(() -> serializer.serialize("t", "plain string"))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("java.lang.String");
    }

    @Test
    void requiresARegistryUrl() {
        assertThatThrownBy(() -> ConfluentAvroSerde.specific(Member.class, Map.of(), false))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("schema.registry.url");
    }

    @Test
    void oneSerdeIsSafeToShareAcrossThreads() throws Exception {
        final ConfluentAvroSerde<Member> serde = ConfluentAvroSerde.specific(Member.class, configs(), false);
        final ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            final List<Future<Boolean>> results = new ArrayList<>();
            for (int task = 0; task < 8; task++) {
                final String user = "user-" + task;
                results.add(pool.submit(() -> roundTrips(serde, user, 500)));
            }
            for (final Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static boolean roundTrips(final ConfluentAvroSerde<Member> serde, final String user, final int times) {
        for (int i = 0; i < times; i++) {
            final Member member = Member.newBuilder().setUserId(user).setUserProperties(Map.of("i", "" + i)).build();
            if (!member.equals(serde.deserializer().deserialize("t", serde.serializer().serialize("t", member)))) {
                return false;
            }
        }
        return true;
    }
}
