package io.cohortsync.deadletter;

/** Machine-readable reasons for rejecting an input; each row of the README's "What happens when..." table names one. */
public enum ReasonCode {
    /** The value is not a record in the Confluent wire format or does not decode with its schema. */
    DESERIALIZATION_FAILED,
    /** The value names a schema id the registry does not know. */
    UNKNOWN_SCHEMA_ID,
    /** The record is larger than ingest.max-record-bytes. */
    RECORD_TOO_LARGE,
    MISSING_ACCOUNT_ID,
    MISSING_COHORT_ID,
    MISSING_MESSAGE_ID,
    MISSING_OBJECT_ID,
    /** An id contains '|', the separator of cohort-sync's keys. */
    INVALID_ID,
    /** The record key is not the documented '<accountId>|<...>' key of its value. */
    KEY_MISMATCH,
    /** A batch has more members than ingest.max-members-per-batch. */
    BATCH_TOO_LARGE,
    /** The account is not configured. */
    UNKNOWN_ACCOUNT,
    /** A member carries none of the identifiers its account's import settings read (counted in the SyncReport). */
    NO_IDENTIFIER
}
