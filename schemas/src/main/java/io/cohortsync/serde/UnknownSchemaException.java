package io.cohortsync.serde;

import org.apache.kafka.common.errors.SerializationException;

/** A schema is not registered under a subject (Confluent errors 40401/40403 on a lookup). */
public class UnknownSchemaException extends SerializationException {

    private final String subject;

    public UnknownSchemaException(final String subject, final String message) {
        super(message);
        this.subject = subject;
    }

    public String subject() {
        return subject;
    }
}
