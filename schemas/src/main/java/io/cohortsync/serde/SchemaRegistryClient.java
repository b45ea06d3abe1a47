package io.cohortsync.serde;

import org.apache.avro.Schema;

/**
 * The three calls of the Confluent Schema Registry REST API that an Avro serde needs. Works against Confluent
 * Schema Registry and compatible registries (Apicurio's {@code /apis/ccompat/v7}, Redpanda, Karapace).
 */
public interface SchemaRegistryClient {

    /**
     * Registers {@code schema} under {@code subject} ({@code POST /subjects/{subject}/versions}), or finds it
     * if already there.
     *
     * @return the registry-wide schema id
     * @throws SchemaRegistryException e.g. 409 when the subject's compatibility rules reject the schema
     * @throws SchemaRegistryUnavailableException when no registry URL answers
     */
    int register(String subject, Schema schema);

    /**
     * Finds the id of a schema already registered under {@code subject} ({@code POST /subjects/{subject}}).
     *
     * @throws UnknownSchemaException when the subject or the schema under it does not exist
     * @throws SchemaRegistryUnavailableException when no registry URL answers
     */
    int lookupId(String subject, Schema schema);

    /**
     * The schema with the given id ({@code GET /schemas/ids/{id}}).
     *
     * @throws UnknownSchemaIdException when the registry does not know the id
     * @throws SchemaRegistryUnavailableException when no registry URL answers
     */
    Schema schemaById(int id);

    /**
     * A client for {@code config}: the in-memory {@link MockSchemaRegistry} of the scope for a
     * {@code mock://<scope>} URL, otherwise a REST client whose (subject, schema) → id and id → schema answers are
     * cached, so steady-state (de)serialization makes no HTTP call. Each call returns a new cache.
     */
    static SchemaRegistryClient create(final SchemaRegistryConfig config) {
        return config.mockScope()
                .<SchemaRegistryClient>map(MockSchemaRegistry::scope)
                .orElseGet(() -> new CachingSchemaRegistryClient(new RestSchemaRegistryClient(config)));
    }
}
