package io.cohortsync.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cohortsync.avro.Member;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Test vectors written by hand from the published formats, not produced by our code: Confluent's wire format
 * (magic byte 0, 4-byte big-endian schema id, Avro binary) and the Avro 1.12 specification's binary encoding.
 */
class WireFormatTest {

    private static final String TOPIC = "members";
    private final String scope = "wire-format-" + UUID.randomUUID();

    @AfterEach
    void dropScope() {
        MockSchemaRegistry.drop(scope);
    }

    /** Member{userId="u1", deviceId=null, amplitudeId=null, userProperties={"k":"v"}}. */
    private static byte[] memberAvroBinary() {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        // userId: union ["null","string"], branch 1 → zig-zag varint 2; string "u1" → zig-zag length 4, UTF-8.
        out.write(0x02);
        out.write(0x04);
        out.writeBytes("u1".getBytes(StandardCharsets.UTF_8));
        // deviceId, amplitudeId: branch 0 (null), which has no further bytes.
        out.write(0x00);
        out.write(0x00);
        // userProperties: one block of 1 entry (zig-zag 2), key "k", value "v", then the 0 end-of-map block.
        out.write(0x02);
        out.write(0x02);
        out.write('k');
        out.write(0x02);
        out.write('v');
        out.write(0x00);
        return out.toByteArray();
    }

    private static byte[] withHeader(final int b1, final int b2, final int b3, final int b4, final byte[] avro) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x00);
        out.write(b1);
        out.write(b2);
        out.write(b3);
        out.write(b4);
        out.writeBytes(avro);
        return out.toByteArray();
    }

    private static Member member() {
        return Member.newBuilder().setUserId("u1").setUserProperties(Map.of("k", "v")).build();
    }

    private ConfluentAvroSerde<Member> mockSerde() {
        return ConfluentAvroSerde.specific(Member.class,
                Map.of(SchemaRegistryConfig.SCHEMA_REGISTRY_URL, "mock://" + scope), false);
    }

    @Test
    void decodesAndReproducesTheHandWrittenVectorForSchemaIdOne() {
        final byte[] vector = withHeader(0x00, 0x00, 0x00, 0x01, memberAvroBinary());
        final ConfluentAvroSerde<Member> serde = mockSerde();

        final byte[] written = serde.serializer().serialize(TOPIC, member());

        assertThat(written).containsExactly(vector);
        assertThat(MockSchemaRegistry.scope(scope).lookupId(TOPIC + "-value", Member.SCHEMA$)).isEqualTo(1);
        assertThat(mockSerde().deserializer().deserialize(TOPIC, vector)).isEqualTo(member());
    }

    @Test
    void readsTheSchemaIdBigEndian() {
        final int id = 0x01020304;
        final byte[] vector = withHeader(0x01, 0x02, 0x03, 0x04, memberAvroBinary());
        final ConfluentAvroSerde<Member> serde = ConfluentAvroSerde.specific(Member.class, new FixedIdClient(id));

        assertThat(serde.deserializer().deserialize(TOPIC, vector)).isEqualTo(member());
        assertThat(serde.serializer().serialize(TOPIC, member())).containsExactly(vector);
    }

    @Test
    void rejectsAWrongMagicByte() {
        final byte[] vector = withHeader(0x00, 0x00, 0x00, 0x01, memberAvroBinary());
        vector[0] = 0x01;

        assertThatThrownBy(() -> mockSerde().deserializer().deserialize(TOPIC, vector))
                .isInstanceOf(UnknownMagicByteException.class)
                .hasMessageContaining("0x01")
                .hasMessageContaining("magic byte 0x00")
                .hasMessageContaining(TOPIC);
    }

    @Test
    void rejectsAnUnknownSchemaId() {
        final byte[] vector = withHeader(0x00, 0x00, 0x00, 0x2a, memberAvroBinary());

        assertThatThrownBy(() -> mockSerde().deserializer().deserialize(TOPIC, vector))
                .isInstanceOf(UnknownSchemaIdException.class)
                .hasMessageContaining("42")
                .satisfies(e -> assertThat(((UnknownSchemaIdException) e).schemaId()).isEqualTo(42));
    }

    @Test
    void rejectsARecordShorterThanTheHeader() {
        assertThatThrownBy(() -> mockSerde().deserializer().deserialize(TOPIC, new byte[] {0, 0, 0, 1}))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessageContaining("too short for the Confluent wire format");
    }

    @Test
    void reportsTruncatedAvroDataWithTopicAndSchemaId() {
        final byte[] full = withHeader(0x00, 0x00, 0x00, 0x01, memberAvroBinary());
        final byte[] truncated = java.util.Arrays.copyOf(full, full.length - 3);
        final ConfluentAvroSerde<Member> serde = mockSerde();
        serde.serializer().serialize(TOPIC, member());

        assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, truncated))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessageContaining("topic '" + TOPIC + "'")
                .hasMessageContaining("schema id 1");
    }

    @Test
    void nullReadsAsNullAndNullWritesNull() {
        final ConfluentAvroSerde<Member> serde = mockSerde();

        assertThat(serde.serializer().serialize(TOPIC, null)).isNull();
        assertThat(serde.deserializer().deserialize(TOPIC, null)).isNull();
    }

    /** Kafka deletes only on a null value, so reading an empty one as a tombstone would delete what Kafka keeps. */
    @Test
    void anEmptyRecordIsRejectedNotReadAsATombstone() {
        final ConfluentAvroSerde<Member> serde = mockSerde();

        assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, new byte[0]))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessageContaining("0 bytes")
                .hasMessageContaining("topic '" + TOPIC + "'");
    }

    /** 2,000,000,000 as Avro's zig-zag varint: the length or count a corrupt record claims. */
    private static final byte[] TWO_BILLION = {(byte) 0x80, (byte) 0xd0, (byte) 0xac, (byte) 0xf3, 0x0e};

    @Test
    void aStringClaimingTwoBillionBytesIsRejectedBeforeAvroAllocatesThem() {
        final ByteArrayOutputStream avro = new ByteArrayOutputStream();
        avro.write(0x02);
        avro.writeBytes(TWO_BILLION);
        avro.writeBytes("u1".getBytes(StandardCharsets.UTF_8));

        assertRejectedByLimit(avro.toByteArray(), "String length 2000000000 exceeds maximum allowed");
    }

    @Test
    void aMapClaimingTwoBillionEntriesIsRejectedBeforeAvroAllocatesThem() {
        final ByteArrayOutputStream avro = new ByteArrayOutputStream();
        avro.write(0x00);
        avro.write(0x00);
        avro.write(0x00);
        avro.writeBytes(TWO_BILLION);
        avro.writeBytes(new byte[] {0x02, 'k', 0x02, 'v'});

        assertRejectedByLimit(avro.toByteArray(), "Collection length 2000000000 exceeds the maximum allowed of "
                + AvroDecodingLimits.MAX_COLLECTION_ITEMS);
    }

    private void assertRejectedByLimit(final byte[] avro, final String limitMessage) {
        assertThat(AvroDecodingLimits.inEffect()).as("Avro's decoding limits are set").isTrue();
        final ConfluentAvroDeserializer<Member> deserializer = new ConfluentAvroDeserializer<>(
                new FixedIdClient(7), ConfluentAvroDeserializer.Reading.specific(Member.class));

        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, withHeader(0, 0, 0, 7, avro)))
                .isExactlyInstanceOf(SerializationException.class)
                .hasMessageContaining("schema id 7")
                .hasMessageContaining(limitMessage);
    }

    /** A registry that knows Member under one fixed id, to test ids beyond what a fresh registry assigns. */
    private static final class FixedIdClient implements SchemaRegistryClient {
        private final int id;

        FixedIdClient(final int id) {
            this.id = id;
        }

        @Override
        public int register(final String subject, final Schema schema) {
            return id;
        }

        @Override
        public int lookupId(final String subject, final Schema schema) {
            return id;
        }

        @Override
        public Schema schemaById(final int requested) {
            if (requested != id) {
                throw new UnknownSchemaIdException(requested, null);
            }
            return Member.SCHEMA$;
        }
    }
}
