package io.cohortsync.serde;

import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Avro serde in Confluent's wire format with its own schema-registry client. The serializer and deserializer of
 * one serde share one (caching) client, so a record written is read back without asking the registry.
 *
 * <pre>{@code
 * Serde<Member> members = ConfluentAvroSerde.specific(Member.class,
 *         Map.of("schema.registry.url", "http://registry:8081"), false);
 * }</pre>
 *
 * @param <T> the record type
 */
public class ConfluentAvroSerde<T> implements Serde<T> {

    static {
        AvroDecodingLimits.install();
    }

    private final SchemaRegistryClient injectedClient;
    private final ConfluentAvroDeserializer.Reading reading;
    private final ConfluentAvroSerializer<T> serializer;
    private final ConfluentAvroDeserializer<T> deserializer;

    /** Generic serde for Kafka Streams' {@code default.value.serde=} class-name instantiation. */
    public ConfluentAvroSerde() {
        this(null, ConfluentAvroDeserializer.Reading.generic(null));
    }

    private ConfluentAvroSerde(final SchemaRegistryClient client, final ConfluentAvroDeserializer.Reading reading) {
        this.injectedClient = client;
        this.reading = reading;
        this.serializer = new ConfluentAvroSerializer<>(client);
        this.deserializer = new ConfluentAvroDeserializer<>(client, reading);
    }

    /** Reads into {@code type}, resolving each record's writer schema to the class's schema. Configure before use. */
    public static <T extends SpecificRecord> ConfluentAvroSerde<T> specific(final Class<T> type) {
        return specific(type, (SchemaRegistryClient) null);
    }

    /** As {@link #specific(Class)}, configured in one call. */
    public static <T extends SpecificRecord> ConfluentAvroSerde<T> specific(final Class<T> type,
            final Map<String, ?> configs, final boolean isKey) {
        final ConfluentAvroSerde<T> serde = specific(type);
        serde.configure(configs, isKey);
        return serde;
    }

    /** As {@link #specific(Class)} on a given client; usable at once (value side, auto-registering). */
    public static <T extends SpecificRecord> ConfluentAvroSerde<T> specific(final Class<T> type,
            final SchemaRegistryClient client) {
        return new ConfluentAvroSerde<>(client, ConfluentAvroDeserializer.Reading.specific(type));
    }

    /** GenericRecords, read with each record's writer schema. Configure before use. */
    public static ConfluentAvroSerde<GenericRecord> generic() {
        return generic(null, null);
    }

    /** GenericRecords, each resolved to {@code readerSchema}. Configure before use. */
    public static ConfluentAvroSerde<GenericRecord> generic(final Schema readerSchema) {
        return generic(readerSchema, null);
    }

    /**
     * GenericRecords on a given client; {@code readerSchema} null reads with the writer schema. A non-null
     * client makes the serde usable at once (value side, auto-registering).
     */
    public static ConfluentAvroSerde<GenericRecord> generic(final Schema readerSchema,
            final SchemaRegistryClient client) {
        return new ConfluentAvroSerde<>(client, ConfluentAvroDeserializer.Reading.generic(readerSchema));
    }

    @Override
    public void configure(final Map<String, ?> configs, final boolean isKey) {
        final SchemaRegistryClient client = injectedClient != null
                ? injectedClient
                : SchemaRegistryClient.create(new SchemaRegistryConfig(configs));
        serializer.configure(configs, isKey, client);
        deserializer.configure(configs, isKey, client);
    }

    /**
     * Registers the schema this serde writes under {@code topic}'s subject (or, with {@code auto.register.schemas=false},
     * looks its id up) and keeps the id, as the first write would: a service that does this at start writes every later
     * record without asking the registry, so a registry outage does not stop its output. Only for serdes with a fixed
     * schema ({@link #specific} or {@link #generic(Schema)}).
     *
     * @return the schema id
     * @throws SchemaRegistryUnavailableException when no registry URL answers (retryable)
     */
    public int registerSchema(final String topic) {
        final Schema schema = reading.readerSchema();
        if (schema == null) {
            throw new IllegalStateException("a generic serde without a reader schema writes whatever schema each "
                    + "record has: there is no schema to register in advance");
        }
        return serializer.schemaIdFor(topic, schema);
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }
}
