package io.cohortsync.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * The registry could not be reached, timed out, or answered with a 5xx, 408 or 429 (or, as
 * {@link SchemaRegistryRefusedException}, refused the configuration). Retryable: the same call may succeed
 * later. The message and {@link #url()} never contain credentials.
 */
public class SchemaRegistryUnavailableException extends SerializationException {

    private final String url;

    public SchemaRegistryUnavailableException(final String redactedUrl, final String message, final Throwable cause) {
        super(message, cause);
        this.url = redactedUrl;
    }

    /** The registry URL(s) tried, without any user info. */
    public String url() {
        return url;
    }

    /** Always true: an outage is transient, unlike a rejected or unknown schema. */
    public boolean isRetryable() {
        return true;
    }
}
