package io.cohortsync.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record's schema id is known to the registry, but the schema it names cannot be read as the reader's schema: another
 * record type (a Profile written to the requests topic, say) or an incompatible version of the same one.
 */
public class IncompatibleSchemaException extends SerializationException {

    private final int schemaId;

    public IncompatibleSchemaException(final String topic, final int schemaId, final String writerName,
                                      final String readerName, final String incompatibilities) {
        super("A record from topic '" + topic + "' was written with schema id " + schemaId + " (" + writerName
                + "), which cannot be read as " + readerName + ": " + incompatibilities);
        this.schemaId = schemaId;
    }

    public int schemaId() {
        return schemaId;
    }
}
