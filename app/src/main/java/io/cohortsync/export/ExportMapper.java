package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.deadletter.ReasonCode;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/** Maps a selected source event to Amplitude's event format, or says why Amplitude would reject it. */
public final class ExportMapper {

    private ExportMapper() {
    }

    /** Exactly one of event and violation is set. */
    public record Result(AmplitudeEvent event, AmplitudeRules.Violation violation) {
        static Result rejected(final ReasonCode reason, final String message) {
            return new Result(null, new AmplitudeRules.Violation(reason, message));
        }
    }

    public static Result map(final ExportSource source, final ExportSettings settings) {
        if (source.eventName() == null || source.eventName().isBlank()) {
            return Result.rejected(ReasonCode.MISSING_EVENT_NAME, "the event has no name (Amplitude's event_type)");
        }
        final IdMapping.Resolution user = settings.userId().resolve(source, settings.minIdLength());
        final IdMapping.Resolution device = settings.deviceId().resolve(source, settings.minIdLength());
        final String userId = user.value();
        final String deviceId = device.value();
        if (userId == null && deviceId == null) {
            final boolean tooShort = user.skippedShort() || device.skippedShort();
            return Result.rejected(tooShort ? ReasonCode.AMPLITUDE_ID_TOO_SHORT : ReasonCode.NO_AMPLITUDE_ID,
                "neither user_id (mapping " + settings.userId() + ") nor device_id (mapping " + settings.deviceId()
                    + ") has a value" + (tooShort ? " at least " + settings.minIdLength()
                    + " characters long (the account's min-id-length)" : ""));
        }
        final Optional<AmplitudeRules.Violation> badId = check("user_id", userId, settings.minIdLength())
            .or(() -> check("device_id", deviceId, settings.minIdLength()));
        if (badId.isPresent()) {
            return new Result(null, badId.get());
        }
        final String insertId = insertId(source);
        final Optional<AmplitudeRules.Violation> tooLong =
            AmplitudeRules.checkLengths(source.eventName(), insertId, source.properties());
        if (tooLong.isPresent()) {
            return new Result(null, tooLong.get());
        }
        return new Result(AmplitudeEvent.newBuilder()
            .setAccountId(source.accountId())
            .setEventType(source.eventName())
            .setUserId(userId)
            .setDeviceId(deviceId)
            .setTime(source.timestamp())
            .setInsertId(insertId)
            .setEventProperties(source.properties())
            .setUserProperties(Map.of())
            .build(), null);
    }

    /** The export topic's key: one Amplitude user's events share it, so they stay in one partition, in order. */
    public static String key(final AmplitudeEvent event) {
        return event.getAccountId() + "|" + (event.getUserId() != null ? event.getUserId() : event.getDeviceId());
    }

    /**
     * Deterministic per source event, so a re-sent or re-produced event is dropped by Amplitude: the source's own
     * event id when it has one (Partner Sync always does), else a name-based UUID of what identifies the event.
     */
    static String insertId(final ExportSource source) {
        if (source.eventId() != null && !source.eventId().isBlank()) {
            return source.eventId();
        }
        final StringBuilder name = new StringBuilder()
            .append(source.accountId()).append('\u0000')
            .append(source.objectId()).append('\u0000')
            .append(source.eventName()).append('\u0000')
            .append(source.timestamp());
        new TreeMap<>(source.properties()).forEach((key, value) ->
            name.append('\u0000').append(key).append('=').append(value));
        return UUID.nameUUIDFromBytes(name.toString().getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static Optional<AmplitudeRules.Violation> check(final String field, final String id, final int min) {
        return id == null ? Optional.empty() : AmplitudeRules.checkId(field, id, min);
    }
}
