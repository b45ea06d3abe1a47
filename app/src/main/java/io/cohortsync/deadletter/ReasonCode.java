package io.cohortsync.deadletter;

/** Machine-readable reasons for rejecting an input; each row of the README's "What happens when..." table names one. */
public enum ReasonCode {
    /** The value is not a record in the Confluent wire format or does not decode with its schema. */
    DESERIALIZATION_FAILED,
    /** The value names a schema id the registry does not know. */
    UNKNOWN_SCHEMA_ID,
    /**
     * The value names a schema id the registry knows, but of a schema the topic's record type cannot be read from:
     * another record type (a Profile written to the requests topic, say) or an incompatible version of its own.
     */
    SCHEMA_MISMATCH,
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
    /** A request's computedAt is before 1970, or more than a day after its record's timestamp. */
    COMPUTED_AT_OUT_OF_RANGE,
    /** A batch has more members than ingest.max-members-per-batch. */
    BATCH_TOO_LARGE,
    /** The account is not configured. */
    UNKNOWN_ACCOUNT,
    /** A member carries none of the identifiers its account's import settings read (counted in the SyncReport). */
    NO_IDENTIFIER,
    /**
     * A member's identifier (or the email or phone a new profile would take) is longer than 1024 characters,
     * Amplitude's limit for any value (counted in the SyncReport).
     */
    IDENTIFIER_TOO_LONG,
    /** Export: the event has no event name (Amplitude's required event_type). */
    MISSING_EVENT_NAME,
    /** Export: neither user_id nor device_id could be mapped for the event. */
    NO_AMPLITUDE_ID,
    /** Export: a mapped user_id or device_id is on Amplitude's list of invalid ids (null, anonymous, 0, ...). */
    INVALID_AMPLITUDE_ID,
    /** Export: a mapped user_id or device_id is shorter than the account's min-id-length. */
    AMPLITUDE_ID_TOO_SHORT,
    /** A request's cohortId, cohortName or messageId, or a string in an export event, is over 1024 characters. */
    VALUE_TOO_LONG,
    /** Export: one event alone is larger than an Amplitude request may be. */
    EVENT_TOO_LARGE,
    /** Export: Amplitude answered 400 and listed the event (invalid or missing fields, silenced); message says why. */
    AMPLITUDE_REJECTED
}
