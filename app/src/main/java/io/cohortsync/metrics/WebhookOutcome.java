package io.cohortsync.metrics;

import java.util.Locale;

/** How an Amplitude webhook call ended: the {@code outcome} tag of the webhook counters. */
public enum WebhookOutcome {
    ACCEPTED,
    UNAUTHORIZED,
    BAD_REQUEST,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    UNAVAILABLE,
    ERROR;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static WebhookOutcome ofStatus(final int status) {
        return switch (status) {
            case 200 -> ACCEPTED;
            case 400 -> BAD_REQUEST;
            case 401 -> UNAUTHORIZED;
            case 413 -> PAYLOAD_TOO_LARGE;
            case 415 -> UNSUPPORTED_MEDIA_TYPE;
            case 503 -> UNAVAILABLE;
            default -> ERROR;
        };
    }
}
