package io.cohortsync.serde;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro records (generated {@link SpecificRecord}s or {@link org.apache.avro.generic.GenericRecord}s) in
 * Confluent's wire format, byte-compatible with Confluent's {@code KafkaAvroSerializer}. The subject is
 * {@code <topic>-value} or {@code <topic>-key}. Thread-safe once configured.
 *
 * @param <T> the record type
 */
public class ConfluentAvroSerializer<T> implements Serializer<T> {

    /** Writers depend on the data model too: a generated class and a GenericRecord of one schema differ. */
    private record WriterKey(Schema schema, Class<?> recordClass) {
    }

    static {
        AvroDecodingLimits.install();
    }

    private final SchemaRegistryClient injectedClient;
    private final Map<WriterKey, DatumWriter<Object>> writers = new ConcurrentHashMap<>();
    private volatile SchemaRegistryClient client;
    private volatile boolean isKey;
    private volatile boolean autoRegisterSchemas = true;

    /** For Kafka's {@code value.serializer=} class-name instantiation; {@link #configure} must follow. */
    public ConfluentAvroSerializer() {
        this(null);
    }

    /** Uses {@code client} instead of one built from {@code schema.registry.url}; usable without configure. */
    public ConfluentAvroSerializer(final SchemaRegistryClient client) {
        this.injectedClient = client;
        this.client = client;
    }

    @Override
    public void configure(final Map<String, ?> configs, final boolean isKey) {
        configure(configs, isKey, injectedClient != null
                ? injectedClient
                : SchemaRegistryClient.create(new SchemaRegistryConfig(configs)));
    }

    void configure(final Map<String, ?> configs, final boolean isKey, final SchemaRegistryClient client) {
        this.autoRegisterSchemas = SchemaRegistryConfig.autoRegisterSchemas(configs);
        this.isKey = isKey;
        this.client = client;
    }

    @Override
    public byte[] serialize(final String topic, final T data) {
        if (data == null) {
            return null;
        }
        final GenericContainer record = asAvro(topic, data);
        final Schema schema = record.getSchema();
        final int schemaId = schemaId(WireFormat.subject(topic, isKey), schema);
        return encode(topic, schemaId, record);
    }

    /** The id records of {@code schema} get on {@code topic}: registered or looked up once, then cached. */
    int schemaIdFor(final String topic, final Schema schema) {
        return schemaId(WireFormat.subject(topic, isKey), schema);
    }

    private byte[] encode(final String topic, final int schemaId, final GenericContainer record) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        final byte[] header = new byte[WireFormat.HEADER_SIZE];
        WireFormat.writeHeader(header, schemaId);
        out.writeBytes(header);
        try {
            final BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            writer(record).write(record, encoder);
            encoder.flush();
        } catch (final IOException | RuntimeException e) {
            throw new SerializationException("Could not encode a " + record.getSchema().getFullName()
                    + " for topic '" + topic + "' with schema id " + schemaId + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    private int schemaId(final String subject, final Schema schema) {
        final SchemaRegistryClient registry = requireClient();
        if (autoRegisterSchemas) {
            return registry.register(subject, schema);
        }
        try {
            return registry.lookupId(subject, schema);
        } catch (final UnknownSchemaException e) {
            throw new UnknownSchemaException(subject, "Schema " + schema.getFullName() + " is not registered under "
                    + "subject '" + subject + "' and " + SchemaRegistryConfig.AUTO_REGISTER_SCHEMAS
                    + " is false: register it first (" + e.getMessage() + ')');
        }
    }

    private DatumWriter<Object> writer(final GenericContainer record) {
        return writers.computeIfAbsent(new WriterKey(record.getSchema(), record.getClass()),
                ConfluentAvroSerializer::newWriter);
    }

    private static DatumWriter<Object> newWriter(final WriterKey key) {
        return SpecificRecord.class.isAssignableFrom(key.recordClass())
                // getForClass brings the generated class's logical-type conversions.
                ? new SpecificDatumWriter<>(key.schema(), SpecificData.getForClass(key.recordClass()))
                : new GenericDatumWriter<>(key.schema(), GenericData.get());
    }

    private SchemaRegistryClient requireClient() {
        final SchemaRegistryClient registry = client;
        if (registry == null) {
            throw new IllegalStateException("ConfluentAvroSerializer is not configured: call configure(configs, isKey) "
                    + "with " + SchemaRegistryConfig.SCHEMA_REGISTRY_URL + ", or pass a SchemaRegistryClient");
        }
        return registry;
    }

    private static GenericContainer asAvro(final String topic, final Object data) {
        if (data instanceof GenericContainer container) {
            return container;
        }
        throw new SerializationException("ConfluentAvroSerializer writes Avro records (SpecificRecord or GenericRecord); "
                + "got a " + data.getClass().getName() + " for topic '" + topic + "'");
    }
}
