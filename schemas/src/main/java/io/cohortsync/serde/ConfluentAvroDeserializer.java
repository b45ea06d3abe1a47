package io.cohortsync.serde;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.AvroTypeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads records in Confluent's wire format. The writer schema comes from the id in the record and is resolved
 * against the reader schema (a generated class's, a given one, or the writer's own), so fields added or removed
 * compatibly on either side are handled. Thread-safe once configured.
 *
 * @param <T> the record type
 */
public class ConfluentAvroDeserializer<T> implements Deserializer<T> {

    /** How the reader schema and data model are chosen; fixed per instance, so readers are cached by writer id. */
    static final class Reading {
        private final Class<? extends SpecificRecord> specificType;
        private final Schema readerSchema;

        private Reading(final Class<? extends SpecificRecord> specificType, final Schema readerSchema) {
            this.specificType = specificType;
            this.readerSchema = readerSchema;
        }

        static Reading specific(final Class<? extends SpecificRecord> type) {
            return new Reading(type, SpecificData.getForClass(type).getSchema(type));
        }

        /** The schema records are read into, or null when each is read with its writer's. */
        Schema readerSchema() {
            return readerSchema;
        }

        /** {@code readerSchema} null: read with the writer's schema. */
        static Reading generic(final Schema readerSchema) {
            return new Reading(null, readerSchema);
        }
    }

    static {
        AvroDecodingLimits.install();
    }

    private final SchemaRegistryClient injectedClient;
    private final Reading reading;
    private final Map<Integer, WriterReading<T>> readersByWriterId = new ConcurrentHashMap<>();
    private volatile SchemaRegistryClient client;
    private volatile boolean specificByWriterName;

    /**
     * For Kafka's {@code value.deserializer=} class-name instantiation; {@link #configure} must follow. Yields
     * GenericRecords, or generated classes when {@code specific.avro.reader=true}.
     */
    public ConfluentAvroDeserializer() {
        this(null);
    }

    /** Generic (or {@code specific.avro.reader}) reading with {@code client}; usable without configure. */
    public ConfluentAvroDeserializer(final SchemaRegistryClient client) {
        this(client, Reading.generic(null));
    }

    ConfluentAvroDeserializer(final SchemaRegistryClient client, final Reading reading) {
        this.injectedClient = client;
        this.client = client;
        this.reading = reading;
    }

    @Override
    public void configure(final Map<String, ?> configs, final boolean isKey) {
        configure(configs, isKey, injectedClient != null
                ? injectedClient
                : SchemaRegistryClient.create(new SchemaRegistryConfig(configs)));
    }

    void configure(final Map<String, ?> configs, final boolean isKey, final SchemaRegistryClient client) {
        this.specificByWriterName = SchemaRegistryConfig.specificAvroReader(configs);
        this.client = client;
        readersByWriterId.clear();
    }

    /** A null record (a tombstone) reads as null; an empty one is rejected, as Confluent's deserializer does. */
    @Override
    public T deserialize(final String topic, final byte[] data) {
        if (data == null) {
            return null;
        }
        WireFormat.checkHeader(topic, data);
        final int schemaId = WireFormat.schemaId(data);
        final WriterReading<T> byWriter = reader(topic, schemaId);
        try {
            final BinaryDecoder decoder = DecoderFactory.get()
                    .binaryDecoder(data, WireFormat.HEADER_SIZE, data.length - WireFormat.HEADER_SIZE, null);
            return byWriter.reader.read(null, new BoundedDecoder(decoder));
        } catch (final IOException | RuntimeException e) {
            if (byWriter.incompatibilities != null && e instanceof AvroTypeException) {
                throw new IncompatibleSchemaException(topic, schemaId, byWriter.writerName,
                        reading.readerSchema.getFullName(), byWriter.incompatibilities + "; this record: " + e);
            }
            throw new SerializationException("Could not decode the Avro record from topic '" + topic
                    + "' written with schema id " + schemaId + ": " + e, e);
        }
    }

    /**
     * How records of one writer schema are read. {@code incompatibilities} lists what the reader cannot take from
     * such a writer (null when nothing): such records are still read, as Confluent's deserializer does, since a
     * difference may touch only some of them (an enum symbol added, a field made nullable); those it does touch are
     * refused as incompatible, with the list.
     */
    private record WriterReading<T>(DatumReader<T> reader, String writerName, String incompatibilities) {
    }

    private WriterReading<T> reader(final String topic, final int schemaId) {
        final WriterReading<T> cached = readersByWriterId.get(schemaId);
        if (cached != null) {
            return cached;
        }
        // Outside computeIfAbsent: fetching the writer schema may be an HTTP call.
        final Schema writer = requireClient().schemaById(schemaId);
        final WriterReading<T> created;
        try {
            created = new WriterReading<>(newReader(writer), writer.getFullName(),
                    incompatibilities(topic, schemaId, writer));
        } catch (final AvroRuntimeException e) {
            throw new SerializationException("Cannot read records of topic '" + topic + "' written with schema id "
                    + schemaId + " (" + writer.getFullName() + "): " + e.getMessage(), e);
        }
        final WriterReading<T> raced = readersByWriterId.putIfAbsent(schemaId, created);
        return raced != null ? raced : created;
    }

    /**
     * What the reader schema cannot take from {@code writer}, or null. Avro's resolution does not compare record
     * names, so a record of another type with similar fields would be read as this one: a writer of another name is
     * refused here, for every record, with every incompatibility listed.
     */
    private String incompatibilities(final String topic, final int schemaId, final Schema writer) {
        // Null when reading with the writer's own schema (generic, or specific by the writer's name).
        final Schema reader = reading.readerSchema;
        if (reader == null) {
            return null;
        }
        final SchemaCompatibility.SchemaPairCompatibility compatibility =
                SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        if (compatibility.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            return null;
        }
        final String incompatibilities = compatibility.getResult().getIncompatibilities().stream()
                .map(incompatibility -> incompatibility.getType() + " at " + incompatibility.getLocation() + " ("
                        + incompatibility.getMessage() + ")")
                .collect(Collectors.joining("; "));
        if (!sameName(reader, writer)) {
            throw new IncompatibleSchemaException(topic, schemaId, writer.getFullName(), reader.getFullName(),
                    incompatibilities);
        }
        return incompatibilities;
    }

    private static boolean sameName(final Schema reader, final Schema writer) {
        if (reader.getType() != writer.getType()) {
            return false;
        }
        final boolean named = reader.getType() == Schema.Type.RECORD || reader.getType() == Schema.Type.ENUM
                || reader.getType() == Schema.Type.FIXED;
        return !named || reader.getFullName().equals(writer.getFullName())
                || reader.getAliases().contains(writer.getFullName());
    }

    private DatumReader<T> newReader(final Schema writer) {
        if (reading.specificType != null) {
            return new SpecificDatumReader<>(writer, reading.readerSchema, SpecificData.getForClass(reading.specificType));
        }
        if (reading.readerSchema != null) {
            return new GenericDatumReader<>(writer, reading.readerSchema, GenericData.get());
        }
        if (specificByWriterName) {
            return specificReaderByName(writer);
        }
        return new GenericDatumReader<>(writer, writer, GenericData.get());
    }

    private DatumReader<T> specificReaderByName(final Schema writer) {
        final Class<?> type = SpecificData.get().getClass(writer);
        if (type == null || !SpecificRecord.class.isAssignableFrom(type)) {
            throw new SerializationException(SchemaRegistryConfig.SPECIFIC_AVRO_READER + " is true but no generated "
                    + "class for " + writer.getFullName() + " is on the classpath");
        }
        final SpecificData model = SpecificData.getForClass(type);
        return new SpecificDatumReader<>(writer, model.getSchema(type), model);
    }

    private SchemaRegistryClient requireClient() {
        final SchemaRegistryClient registry = client;
        if (registry == null) {
            throw new IllegalStateException("ConfluentAvroDeserializer is not configured: call configure(configs, isKey) "
                    + "with " + SchemaRegistryConfig.SCHEMA_REGISTRY_URL + ", or pass a SchemaRegistryClient");
        }
        return registry;
    }
}
