package io.cohortsync.serde;

import org.apache.kafka.common.errors.SerializationException;

/** The registry does not know the schema id (Confluent error 40403), e.g. read from a record's header. */
public class UnknownSchemaIdException extends SerializationException {

    private final int schemaId;

    public UnknownSchemaIdException(final int schemaId, final String detail) {
        super("Schema id " + schemaId + " is not known to the schema registry" + (detail == null ? "" : ": " + detail));
        this.schemaId = schemaId;
    }

    public int schemaId() {
        return schemaId;
    }
}
