package io.cohortsync.topology;

import io.cohortsync.serde.AvroDecodingLimits;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * Avro binary for records that only cohort-sync reads: repartition topics and changelogs. They skip the schema
 * registry on purpose, so restoring state never depends on it; a leading format byte leaves room to evolve.
 */
public final class InternalAvroSerde<T extends SpecificRecord> implements Serde<T> {

    private static final byte FORMAT_V1 = 1;

    static {
        AvroDecodingLimits.install();
    }

    private final Class<T> type;
    private final byte format;
    private final SpecificDatumWriter<T> writer;
    private final SpecificDatumReader<T> reader;

    private InternalAvroSerde(final Class<T> type, final byte format) {
        this.type = type;
        this.format = format;
        // The generated classes' own encode/decode methods: the same bytes, without walking the schema per record.
        final SpecificData data = new SpecificData(type.getClassLoader());
        data.setCustomCoders(true);
        final Schema schema = data.getSchema(type);
        this.writer = new SpecificDatumWriter<>(schema, data);
        this.reader = new SpecificDatumReader<>(schema, schema, data);
    }

    public static <T extends SpecificRecord> InternalAvroSerde<T> of(final Class<T> type) {
        return new InternalAvroSerde<>(type, FORMAT_V1);
    }

    /**
     * For a type whose encoding changed incompatibly: its own format byte, so state written in the old one is refused
     * with a clear message instead of being misread.
     */
    public static <T extends SpecificRecord> InternalAvroSerde<T> of(final Class<T> type, final int format) {
        return new InternalAvroSerde<>(type, (byte) format);
    }

    @Override
    public Serializer<T> serializer() {
        return (topic, data) -> data == null ? null : write(data);
    }

    @Override
    public Deserializer<T> deserializer() {
        return (topic, bytes) -> bytes == null ? null : read(topic, bytes);
    }

    private byte[] write(final T data) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        out.write(format);
        final BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            synchronized (writer) {
                writer.write(data, encoder);
            }
        } catch (final IOException | RuntimeException e) {
            throw new SerializationException("cannot encode internal " + type.getSimpleName(), e);
        }
        return out.toByteArray();
    }

    private T read(final String topic, final byte[] bytes) {
        if (bytes.length == 0 || bytes[0] != format) {
            throw new StateFormatException("internal " + type.getSimpleName() + " on " + topic + " has format "
                + (bytes.length == 0 ? "none" : bytes[0]) + ", not " + format + ": the state was written by another "
                + "cohort-sync version; start from an empty state (README, Design notes: state formats)");
        }
        final BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, 1, bytes.length - 1, null);
        try {
            synchronized (reader) {
                return reader.read(null, decoder);
            }
        } catch (final IOException | RuntimeException e) {
            throw new SerializationException("cannot decode internal " + type.getSimpleName() + " on " + topic, e);
        }
    }
}
