package io.cohortsync.export;

import io.cohortsync.avro.EngagementEvent;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.Profile;

import java.util.Map;

/**
 * What the export needs from a source event, whichever topic it came from: a Partner Sync event or one of the
 * platform's engagement events, plus the event's profile when the profile table has it.
 *
 * @param eventId the source's own event id (Partner Sync always has one), or null
 * @param profile the profile {@code <accountId>|<objectId>} from the profile table, or null
 */
public record ExportSource(String accountId, String objectId, String identity, String deviceId, String eventId,
                           String eventName, long timestamp, Map<String, String> properties, Profile profile) {

    public static ExportSource of(final PartnerSyncEvent event, final Profile profile) {
        return new ExportSource(event.getAccountId(), event.getObjectId(), event.getIdentity(), null,
            event.getEventId(), event.getEventName(), event.getTimestamp().toEpochMilli(), event.getProperties(),
            profile);
    }

    public static ExportSource of(final EngagementEvent event, final Profile profile) {
        return new ExportSource(event.getAccountId(), event.getObjectId(), event.getIdentity(), event.getDeviceId(),
            event.getEventId(), event.getEventName(), event.getTimestamp().toEpochMilli(), event.getProperties(),
            profile);
    }
}
