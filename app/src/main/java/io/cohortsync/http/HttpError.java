package io.cohortsync.http;

/**
 * An answer other than 200, as JSON {@code {"error": ..., "field": ..., "retryable": ...}}. A retryable error (503)
 * also carries {@code Retry-After}: the caller (Amplitude, or an operator's script) should simply try again.
 */
public final class HttpError extends RuntimeException {

    /** Seconds a client should wait before retrying a 503. */
    public static final int RETRY_AFTER_SECONDS = 1;

    private final int status;
    private final String field;

    public HttpError(final int status, final String message, final String field) {
        super(message, null, false, false);
        this.status = status;
        this.field = field;
    }

    public static HttpError badRequest(final String message, final String field) {
        return new HttpError(400, message, field);
    }

    public static HttpError unauthorized(final String message) {
        return new HttpError(401, message, null);
    }

    public static HttpError forbidden(final String message) {
        return new HttpError(403, message, null);
    }

    public static HttpError notFound(final String message) {
        return new HttpError(404, message, null);
    }

    public static HttpError tooLarge(final String message) {
        return new HttpError(413, message, null);
    }

    public static HttpError unsupportedMediaType(final String message) {
        return new HttpError(415, message, null);
    }

    public static HttpError unavailable(final String message) {
        return new HttpError(503, message, null);
    }

    public int status() {
        return status;
    }

    public String field() {
        return field;
    }

    public boolean retryable() {
        return status == 503;
    }
}
