package io.cohortsync.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.io.IOException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Amplitude's answer to one upload request, with the parts of its JSON body the exporter acts on (reference:
 * partner-apis.md section 1, "400 bodies", "429 body"). A transport failure (timeout, refused connection) has
 * status 0.
 *
 * @param status   the HTTP status, or 0 when no answer came
 * @param error    Amplitude's {@code error} text, or the transport failure's description
 * @param timedOut whether the request timed out
 * @param body     the parsed body (a missing node when it was not JSON)
 */
public record AmplitudeResponse(int status, String error, boolean timedOut, JsonNode body) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static AmplitudeResponse of(final int status, final String text) {
        JsonNode body;
        try {
            body = text == null || text.isBlank() ? MissingNode.getInstance() : JSON.readTree(text);
        } catch (final IOException e) {
            body = MissingNode.getInstance();
        }
        final String error = body.path("error").asText(body.isMissingNode() && text != null
            ? text.substring(0, Math.min(200, text.length())) : "");
        return new AmplitudeResponse(status, error, false, body);
    }

    public static AmplitudeResponse failed(final Throwable error, final boolean timedOut) {
        return new AmplitudeResponse(0, error.getClass().getSimpleName() + ": " + error.getMessage(), timedOut,
            MissingNode.getInstance());
    }

    public boolean accepted() {
        return status == 200;
    }

    /** 401, or a 400 that says the key is invalid or missing: the account cannot export until it is fixed. */
    public boolean authenticationFailed() {
        return status == 401 || status == 400
            && (error.toLowerCase(Locale.ROOT).contains("invalid api key")
            || "api_key".equals(body.path("missing_field").asText()));
    }

    /** 500, 502, 503, 504 (any 5xx), a timeout or no answer: retried with backoff. */
    public boolean transientFailure() {
        return status == 0 || status >= 500;
    }

    /** The label for the requests metric: the status, or "timeout" / "io-error". */
    public String statusLabel() {
        if (status != 0) {
            return String.valueOf(status);
        }
        return timedOut ? "timeout" : "io-error";
    }

    /**
     * The events a 400 rejects, by index into the request's events array, with Amplitude's reason: the
     * {@code events_with_invalid_fields} and {@code events_with_missing_fields} maps (field name to indexes) and
     * {@code silenced_events}.
     */
    public Map<Integer, String> rejectedEvents() {
        final Map<Integer, String> rejected = new TreeMap<>();
        fieldIndexes("events_with_invalid_fields", "invalid field", rejected);
        fieldIndexes("events_with_missing_fields", "missing field", rejected);
        body.path("silenced_events").forEach(index -> rejected.putIfAbsent(index.asInt(),
            "'" + error + "': the event's device is silenced"));
        return rejected;
    }

    private void fieldIndexes(final String name, final String what, final Map<Integer, String> into) {
        body.path(name).properties().forEach(field -> field.getValue().forEach(index ->
            into.putIfAbsent(index.asInt(), "'" + error + "': " + what + " '" + field.getKey() + "'")));
    }

    /** User ids a 429 throttles ({@code throttled_users}). */
    public Set<String> throttledUsers() {
        return keys("throttled_users");
    }

    /** Device ids a 429 throttles ({@code throttled_devices}). */
    public Set<String> throttledDevices() {
        return keys("throttled_devices");
    }

    /** Indexes of the throttled events ({@code throttled_events}). */
    public Set<Integer> throttledEvents() {
        final Set<Integer> indexes = new HashSet<>();
        body.path("throttled_events").forEach(index -> indexes.add(index.asInt()));
        return indexes;
    }

    /** User ids over their daily quota ({@code exceeded_daily_quota_users}). */
    public Set<String> quotaUsers() {
        return keys("exceeded_daily_quota_users");
    }

    /** Device ids over their daily quota ({@code exceeded_daily_quota_devices}). */
    public Set<String> quotaDevices() {
        return keys("exceeded_daily_quota_devices");
    }

    private Set<String> keys(final String name) {
        final Set<String> keys = new HashSet<>();
        body.path(name).fieldNames().forEachRemaining(keys::add);
        return keys;
    }
}
