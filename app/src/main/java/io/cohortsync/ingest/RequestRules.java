package io.cohortsync.ingest;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.deadletter.ReasonCode;
import io.cohortsync.identity.IdentityRules;

import java.util.Optional;

/** What makes a CohortSyncRequest acceptable before any member is looked at. */
public final class RequestRules {

    private RequestRules() {
    }

    public record Rejection(ReasonCode reason, String message) {
    }

    public static String keyOf(final String accountId, final String cohortId) {
        return accountId + "|" + cohortId;
    }

    public static Optional<Rejection> check(final String recordKey, final CohortSyncRequest request,
                                            final int maxMembers) {
        if (isBlank(request.getAccountId())) {
            return reject(ReasonCode.MISSING_ACCOUNT_ID, "accountId is missing or blank");
        }
        if (isBlank(request.getCohortId())) {
            return reject(ReasonCode.MISSING_COHORT_ID, "cohortId is missing or blank");
        }
        if (isBlank(request.getMessageId())) {
            return reject(ReasonCode.MISSING_MESSAGE_ID, "messageId is missing or blank; it is needed to drop retried "
                + "duplicates");
        }
        final Optional<Rejection> tooLong = tooLong("cohortId", request.getCohortId())
            .or(() -> tooLong("cohortName", request.getCohortName()))
            .or(() -> tooLong("messageId", request.getMessageId()));
        if (tooLong.isPresent()) {
            return tooLong;
        }
        if (request.getAccountId().contains("|") || request.getCohortId().contains("|")) {
            return reject(ReasonCode.INVALID_ID, "accountId and cohortId must not contain '|', the key separator");
        }
        final String expectedKey = keyOf(request.getAccountId(), request.getCohortId());
        if (!expectedKey.equals(recordKey)) {
            return reject(ReasonCode.KEY_MISMATCH, "record key must be '" + expectedKey + "' (<accountId>|<cohortId>) "
                + "so one cohort's batches stay ordered, but was " + (recordKey == null ? "null" : "'" + recordKey + "'"));
        }
        if (request.getMembers().size() > maxMembers) {
            return reject(ReasonCode.BATCH_TOO_LARGE, "batch has " + request.getMembers().size()
                + " members; at most " + maxMembers + " are allowed (ingest.max-members-per-batch): split it");
        }
        return Optional.empty();
    }

    /** Each is copied into every chunk and Partner Sync event of the batch. */
    private static Optional<Rejection> tooLong(final String field, final String value) {
        return value != null && value.length() > IdentityRules.MAX_VALUE_CHARS
            ? reject(ReasonCode.VALUE_TOO_LONG, field + " is " + value.length() + " characters long; at most "
                + IdentityRules.MAX_VALUE_CHARS + " are allowed")
            : Optional.empty();
    }

    private static Optional<Rejection> reject(final ReasonCode reason, final String message) {
        return Optional.of(new Rejection(reason, message));
    }

    private static boolean isBlank(final String value) {
        return value == null || value.isBlank();
    }
}
