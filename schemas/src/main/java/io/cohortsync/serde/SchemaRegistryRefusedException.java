package io.cohortsync.serde;

/**
 * The registry answered, but in a way that points at the client's configuration, not at the record: credentials
 * refused (401, 403), a redirect (never followed, since it could carry the credentials elsewhere), or a 404 without
 * a registry error code (the URL is not the registry's API root, e.g. Apicurio without {@code /apis/ccompat/v7}).
 * Retryable like an outage, since no record is at fault and the fix is elsewhere; a service should refuse to start
 * on it rather than wait.
 */
public class SchemaRegistryRefusedException extends SchemaRegistryUnavailableException {

    private final int httpStatus;

    public SchemaRegistryRefusedException(final String redactedUrl, final int httpStatus, final String message) {
        super(redactedUrl, message, null);
        this.httpStatus = httpStatus;
    }

    /** The status of the last answer that refused the call. */
    public int httpStatus() {
        return httpStatus;
    }
}
