package io.cohortsync.membership;

import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.deadletter.ReasonCode;
import io.cohortsync.deadletter.Rejection;
import io.cohortsync.internal.BatchInfo;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** Builds the seed's Partner Sync event (CleverTap "Amplitude Import (Cohort)", section "Partner Sync Event"). */
public final class PartnerSyncEvents {

    public static final String EVENT_NAME = "Partner Sync";
    public static final String SEGMENT_TYPE = "Partner - Amplitude";
    public static final String PARTNER = "Amplitude";
    public static final String ADDED = "Added";
    public static final String REMOVED = "Removed";

    private PartnerSyncEvents() {
    }

    public static PartnerSyncEvent of(final BatchInfo batch, final String segmentName, final String objectId,
                                      final String identity, final String action) {
        final Map<String, String> properties = new LinkedHashMap<>();
        properties.put("Partner Segment Name", segmentName == null ? batch.getCohortId() : segmentName);
        properties.put("Action", action);
        properties.put("Partner Segment ID", batch.getCohortId());
        properties.put("CT Source", PARTNER);
        properties.put("Partner Name", PARTNER);
        return PartnerSyncEvent.newBuilder()
            .setEventName(EVENT_NAME)
            .setAccountId(batch.getAccountId())
            .setObjectId(objectId)
            .setIdentity(identity)
            .setTimestamp(Instant.ofEpochMilli(batch.getComputedAt()))
            .setEventId(eventId(batch, objectId, action))
            .setProperties(properties)
            .build();
    }

    /**
     * Why a Partner Sync event read from the topic cannot be used, or empty: it needs its account, profile and
     * segment ids, and the key {@code <accountId>|<objectId>} ({@code key} null when the record has none). Every
     * stage reading the topic applies the same rules, so a record one of them refuses is refused by all.
     */
    public static Optional<Rejection> problemWith(final String key, final PartnerSyncEvent event) {
        if (isBlank(event.getAccountId())) {
            return Optional.of(new Rejection(ReasonCode.MISSING_ACCOUNT_ID,
                "Partner Sync event: accountId is missing or blank"));
        }
        if (isBlank(event.getObjectId())) {
            return Optional.of(new Rejection(ReasonCode.MISSING_OBJECT_ID,
                "Partner Sync event: objectId is missing or blank"));
        }
        final String expectedKey = event.getAccountId() + "|" + event.getObjectId();
        if (!expectedKey.equals(key)) {
            return Optional.of(new Rejection(ReasonCode.KEY_MISMATCH, "Partner Sync event key must be '"
                + expectedKey + "' (<accountId>|<objectId>) but was " + (key == null ? "null" : "'" + key + "'")));
        }
        if (isBlank(event.getProperties().get("Partner Segment ID"))) {
            return Optional.of(new Rejection(ReasonCode.MISSING_COHORT_ID,
                "Partner Sync event without 'Partner Segment ID'"));
        }
        return Optional.empty();
    }

    private static boolean isBlank(final String value) {
        return value == null || value.isBlank();
    }

    /** Same change, same id: the account, cohort, profile, action and the batch that carried it. */
    public static String eventId(final BatchInfo batch, final String objectId, final String action) {
        final String name = String.join("|", batch.getAccountId(), batch.getCohortId(), objectId, action,
            batch.getMessageId());
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }
}
