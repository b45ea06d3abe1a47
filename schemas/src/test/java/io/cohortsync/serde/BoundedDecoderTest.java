package io.cohortsync.serde;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The bounds must not refuse what Avro itself writes: block-encoded arrays and maps (a negative count followed by the
 * block's size in bytes), fields of a writer schema the reader skips, empty strings at the very end of a record,
 * unions and several blocks.
 */
class BoundedDecoderTest {

    private static final Schema WRITER = SchemaBuilder.record("R").fields()
        .name("skipped").type().array().items().stringType().noDefault()
        .name("skippedMap").type().map().values().stringType().noDefault()
        .name("names").type().array().items().stringType().noDefault()
        .name("props").type().map().values().stringType().noDefault()
        .name("maybe").type().unionOf().nullType().and().stringType().endUnion().noDefault()
        .name("last").type().stringType().noDefault()
        .endRecord();
    /** The writer without its first two fields: a ResolvingDecoder skips them. */
    private static final Schema READER = SchemaBuilder.record("R").fields()
        .name("names").type().array().items().stringType().noDefault()
        .name("props").type().map().values().stringType().noDefault()
        .name("maybe").type().unionOf().nullType().and().stringType().endUnion().noDefault()
        .name("last").type().stringType().noDefault()
        .endRecord();

    @Test
    void blockEncodedArraysAndMapsAndSkippedWriterFieldsDecode() throws IOException {
        final GenericRecord written = record(List.of("a", "", "ccc"), Map.of("k", "", "", "v"), "x", "");
        assertThat(encode(written, true)[0] & 1).as("the first array's count is negative (zig-zag odd)").isEqualTo(1);
        for (final boolean blocking : new boolean[] {false, true}) {
            final GenericRecord read = decode(encode(written, blocking));

            assertThat(read.get("names").toString()).isEqualTo("[a, , ccc]");
            assertThat(read.get("props").toString()).contains("k=", "=v");
            assertThat(read.get("maybe").toString()).isEqualTo("x");
            assertThat(read.get("last").toString()).isEmpty();
        }
    }

    @Test
    void manySmallBlocksDecode() throws IOException {
        final List<String> names = IntStream.range(0, 5_000).mapToObj(i -> "n" + i).toList();
        final GenericRecord read = decode(encode(record(names, Map.of(), null, "end"), true));

        assertThat((List<?>) read.get("names")).hasSize(5_000);
        assertThat(read.get("maybe")).isNull();
    }

    @Test
    void aClaimLargerThanTheRestIsRefused() {
        // names, the reader's first field, claims 1,000 items (zig-zag 2000 = 0xD0 0x0F) with nothing after it.
        final byte[] bytes = {(byte) 0xD0, 0x0F};
        assertThatThrownBy(() -> decode(bytes, READER, READER)).isInstanceOf(EOFException.class);
    }

    private static GenericRecord record(final List<String> names, final Map<String, String> props,
                                        final String maybe, final String last) {
        final GenericRecord record = new GenericData.Record(WRITER);
        record.put("skipped", List.of("s1", "", "s3"));
        record.put("skippedMap", Map.of("a", "b"));
        record.put("names", names);
        record.put("props", props);
        record.put("maybe", maybe);
        record.put("last", last);
        return record;
    }

    /** {@code blocking}: arrays and maps in blocks of a negative count and a byte size, as Avro's blocking encoder does. */
    private static byte[] encode(final GenericRecord record, final boolean blocking) throws IOException {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final Encoder encoder = blocking
            ? new EncoderFactory().configureBlockSize(64).blockingBinaryEncoder(out, null)
            : EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(WRITER).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static GenericRecord decode(final byte[] bytes) throws IOException {
        return decode(bytes, WRITER, READER);
    }

    private static GenericRecord decode(final byte[] bytes, final Schema writer, final Schema reader)
        throws IOException {
        final BinaryDecoder in = DecoderFactory.get().binaryDecoder(bytes, 0, bytes.length, null);
        return new GenericDatumReader<GenericRecord>(writer, reader).read(null, new BoundedDecoder(in));
    }
}
