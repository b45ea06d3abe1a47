package io.cohortsync.export;

import io.cohortsync.deadletter.ReasonCode;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What Amplitude rejects, checked before sending so a doomed event goes to the dead-letter topic with a reason
 * instead of costing a request (reference: partner-apis.md section 1, "Invalid IDs", "Short IDs", "Field values").
 */
public final class AmplitudeRules {

    /** Amplitude's string limit for every field value. */
    public static final int MAX_STRING_LENGTH = 1024;

    /** Ids Amplitude answers 400 for, compared case-insensitively. */
    public static final Set<String> INVALID_IDS = Set.of("anonymous", "nil", "none", "null", "n/a", "na", "undefined",
        "unknown", "", "00000000-0000-0000-0000-000000000000", "{}", "lmy47d", "0", "-1");

    private AmplitudeRules() {
    }

    /** A reason with its message. */
    public record Violation(ReasonCode reason, String message) {
    }

    /** Checks one present id ({@code field} is user_id or device_id); empty when Amplitude would accept it. */
    public static Optional<Violation> checkId(final String field, final String id, final int minIdLength) {
        if (INVALID_IDS.contains(id.trim().toLowerCase(Locale.ROOT))) {
            return Optional.of(new Violation(ReasonCode.INVALID_AMPLITUDE_ID,
                field + " '" + id.trim() + "' is on Amplitude's list of invalid ids"));
        }
        if (id.length() > MAX_STRING_LENGTH) {
            return Optional.of(tooLong(field, id));
        }
        if (id.length() < minIdLength) {
            return Optional.of(new Violation(ReasonCode.AMPLITUDE_ID_TOO_SHORT, field + " '" + id + "' has "
                + id.length() + " characters; the account's min-id-length is " + minIdLength));
        }
        return Optional.empty();
    }

    /** Checks the event name, insert_id and every property key and value against the 1024-character limit. */
    public static Optional<Violation> checkLengths(final String eventType, final String insertId,
                                                   final Map<String, String> properties) {
        if (eventType.length() > MAX_STRING_LENGTH) {
            return Optional.of(tooLong("event_type", eventType));
        }
        if (insertId.length() > MAX_STRING_LENGTH) {
            return Optional.of(tooLong("insert_id", insertId));
        }
        for (final Map.Entry<String, String> property : properties.entrySet()) {
            if (property.getKey().length() > MAX_STRING_LENGTH) {
                return Optional.of(tooLong("event property name", property.getKey()));
            }
            if (property.getValue() != null && property.getValue().length() > MAX_STRING_LENGTH) {
                return Optional.of(tooLong("event property '" + abbreviate(property.getKey()) + "'",
                    property.getValue()));
            }
        }
        return Optional.empty();
    }

    private static Violation tooLong(final String field, final String value) {
        return new Violation(ReasonCode.VALUE_TOO_LONG, field + " '" + abbreviate(value) + "' has " + value.length()
            + " characters; Amplitude accepts at most " + MAX_STRING_LENGTH);
    }

    private static String abbreviate(final String value) {
        return value.length() <= 40 ? value : value.substring(0, 40) + "...";
    }
}
