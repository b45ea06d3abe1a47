package io.cohortsync.ingest;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.deadletter.ReasonCode;
import io.cohortsync.identity.IdentityRules;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** What makes a CohortSyncRequest acceptable before any member is looked at. */
public final class RequestRules {

    /**
     * How far computedAt may be ahead of when the request was written: room for clock skew, not for a future date.
     * Changes are ordered by computedAt, so one dated in the future (microseconds sent as milliseconds, say) would make
     * every real change to the same members look stale until that date, and freeze the segment.
     */
    public static final Duration MAX_COMPUTED_AHEAD = Duration.ofDays(1);

    private RequestRules() {
    }

    /** @param field the request field at fault (its Avro name), or null when it is the record key */
    public record Rejection(ReasonCode reason, String field, String message) {
    }

    public static String keyOf(final String accountId, final String cohortId) {
        return accountId + "|" + cohortId;
    }

    /**
     * {@code writtenAt}: when the request was written, in epoch milliseconds: the later of its record's timestamp and
     * the reader's clock, so a backfill stamped with old record times is not refused for a past computedAt.
     */
    public static Optional<Rejection> check(final String recordKey, final CohortSyncRequest request,
                                            final int maxMembers, final long writtenAt) {
        if (isBlank(request.getAccountId())) {
            return reject(ReasonCode.MISSING_ACCOUNT_ID, "accountId", "accountId is missing or blank");
        }
        if (isBlank(request.getCohortId())) {
            return reject(ReasonCode.MISSING_COHORT_ID, "cohortId", "cohortId is missing or blank");
        }
        if (isBlank(request.getMessageId())) {
            return reject(ReasonCode.MISSING_MESSAGE_ID, "messageId", "messageId is missing or blank; it is needed to "
                + "drop retried duplicates");
        }
        final Optional<Rejection> tooLong = tooLong("cohortId", request.getCohortId())
            .or(() -> tooLong("cohortName", request.getCohortName()))
            .or(() -> tooLong("messageId", request.getMessageId()));
        if (tooLong.isPresent()) {
            return tooLong;
        }
        if (request.getAccountId().contains("|") || request.getCohortId().contains("|")) {
            return reject(ReasonCode.INVALID_ID, request.getAccountId().contains("|") ? "accountId" : "cohortId",
                "accountId and cohortId must not contain '|', the key separator");
        }
        final String expectedKey = keyOf(request.getAccountId(), request.getCohortId());
        if (!expectedKey.equals(recordKey)) {
            return reject(ReasonCode.KEY_MISMATCH, null, "record key must be '" + expectedKey
                + "' (<accountId>|<cohortId>) so one cohort's batches stay ordered, but was "
                + (recordKey == null ? "null" : "'" + recordKey + "'"));
        }
        final Optional<Rejection> badTime = checkComputedAt(request.getComputedAt(), writtenAt);
        if (badTime.isPresent()) {
            return badTime;
        }
        if (request.getMembers().size() > maxMembers) {
            return reject(ReasonCode.BATCH_TOO_LARGE, "members", "batch has " + request.getMembers().size()
                + " members; at most " + maxMembers + " are allowed (ingest.max-members-per-batch): split it");
        }
        return Optional.empty();
    }

    private static Optional<Rejection> checkComputedAt(final Instant computedAt, final long writtenAt) {
        if (computedAt.toEpochMilli() < 0) {
            return reject(ReasonCode.COMPUTED_AT_OUT_OF_RANGE, "computedAt", "computedAt " + computedAt
                + " is before 1970");
        }
        final long latest = writtenAt + MAX_COMPUTED_AHEAD.toMillis();
        return computedAt.toEpochMilli() > latest
            ? reject(ReasonCode.COMPUTED_AT_OUT_OF_RANGE, "computedAt", "computedAt " + computedAt
                + " is more than " + MAX_COMPUTED_AHEAD.toHours() + " hours after the request was written ("
                + Instant.ofEpochMilli(writtenAt) + "); it must be when Amplitude computed the change, in epoch "
                + "milliseconds")
            : Optional.empty();
    }

    /** Each is copied into every chunk and Partner Sync event of the batch. */
    private static Optional<Rejection> tooLong(final String field, final String value) {
        return value != null && value.length() > IdentityRules.MAX_VALUE_CHARS
            ? reject(ReasonCode.VALUE_TOO_LONG, field, field + " is " + value.length() + " characters long; at most "
                + IdentityRules.MAX_VALUE_CHARS + " are allowed")
            : Optional.empty();
    }

    private static Optional<Rejection> reject(final ReasonCode reason, final String field, final String message) {
        return Optional.of(new Rejection(reason, field, message));
    }

    private static boolean isBlank(final String value) {
        return value == null || value.isBlank();
    }
}
