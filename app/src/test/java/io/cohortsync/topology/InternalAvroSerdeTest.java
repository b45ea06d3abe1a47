package io.cohortsync.topology;

import io.cohortsync.internal.BatchInfo;
import io.cohortsync.internal.BatchOpened;
import io.cohortsync.internal.MembershipState;
import io.cohortsync.internal.Resolution;
import io.cohortsync.internal.ResolvedChunk;
import io.cohortsync.internal.ResolvedMember;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The generated coders the serde uses write exactly the Avro binary a plain SpecificDatumWriter writes. */
class InternalAvroSerdeTest {

    private static final BatchInfo BATCH = new BatchInfo("ct", "c1", null, "m1", 1_000L, "ADD", "HOURLY");

    @Test
    void nestedRecordsArraysEnumsAndNullsRoundTripInPlainAvroBinary() throws IOException {
        final ResolvedChunk chunk = new ResolvedChunk(BATCH, List.of(
            new ResolvedMember(Resolution.MATCHED, "obj-1", "Jane@Example.com"),
            new ResolvedMember(Resolution.CREATED, "__cs0a1b", null),
            new ResolvedMember(Resolution.UNMATCHED, null, null)));
        assertRoundTripsAsPlainAvro(ResolvedChunk.class, chunk);
        assertRoundTripsAsPlainAvro(MembershipState.class, new MembershipState(true, 2_000L, 1_000L, "ünïcode"));
        assertRoundTripsAsPlainAvro(BatchOpened.class,
            new BatchOpened(BATCH, false, 3, 2, Map.of("NO_IDENTIFIER", 1)));
    }

    @Test
    void bytesWithoutTheFormatByteAreRefusedWithTheTopicNamed() {
        assertThatThrownBy(() -> InternalAvroSerde.of(MembershipState.class).deserializer()
            .deserialize("members-changelog", new byte[] {9, 1, 2}))
            .isInstanceOf(SerializationException.class)
            .hasMessageContaining("members-changelog")
            .hasMessageContaining("has format 9, not 1");
    }

    /** A type whose encoding changed has its own format byte: the old one's bytes are refused, not misread. */
    @Test
    void bytesInAnotherFormatOfTheSameTypeAreRefusedAsAnotherVersionsState() {
        final byte[] formatOne = InternalAvroSerde.of(MembershipState.class).serializer()
            .serialize("t", new MembershipState(true, 2_000L, 1_000L, null));

        assertThatThrownBy(() -> InternalAvroSerde.of(MembershipState.class, 2).deserializer()
            .deserialize("index-changelog", formatOne))
            .isInstanceOf(SerializationException.class)
            .hasMessageContaining("has format 1, not 2")
            .hasMessageContaining("another cohort-sync version");
    }

    private static <T extends SpecificRecord> void assertRoundTripsAsPlainAvro(final Class<T> type, final T value)
        throws IOException {
        final InternalAvroSerde<T> serde = InternalAvroSerde.of(type);
        final byte[] bytes = serde.serializer().serialize("t", value);
        final ByteArrayOutputStream plain = new ByteArrayOutputStream();
        plain.write(1);
        final BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(plain, null);
        new SpecificDatumWriter<>(type).write(value, encoder);
        assertThat(bytes).isEqualTo(plain.toByteArray());
        assertThat(serde.deserializer().deserialize("t", bytes)).isEqualTo(value);
    }
}
