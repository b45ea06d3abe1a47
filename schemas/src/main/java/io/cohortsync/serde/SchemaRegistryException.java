package io.cohortsync.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * The registry refused a request with a 4xx that has no more specific exception, e.g. 409 (schema incompatible
 * with the subject's compatibility level), 422 (invalid schema), 401/403 (credentials).
 */
public class SchemaRegistryException extends SerializationException {

    private final int httpStatus;
    private final int errorCode;

    public SchemaRegistryException(final int httpStatus, final int errorCode, final String message) {
        super(message);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** The registry's {@code error_code}, or the HTTP status when the body had none. */
    public int errorCode() {
        return errorCode;
    }
}
