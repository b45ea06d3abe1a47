package io.cohortsync.http;

import io.cohortsync.avro.Profile;
import io.cohortsync.internal.MembershipState;
import io.cohortsync.internal.ProfileSegment;
import io.cohortsync.internal.SegmentStats;
import io.cohortsync.membership.PartnerSyncEvents;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON shapes of the query answers (documented in openapi.yaml). Times are ISO-8601 UTC. */
final class StoreViews {

    private StoreViews() {
    }

    static Map<String, Object> segment(final SegmentStats stats) {
        final Map<String, Object> view = new LinkedHashMap<>();
        view.put("accountId", stats.getAccountId());
        view.put("cohortId", stats.getCohortId());
        view.put("name", stats.getName());
        view.put("type", PartnerSyncEvents.SEGMENT_TYPE);
        view.put("partner", PartnerSyncEvents.PARTNER);
        view.put("memberCount", stats.getMemberCount());
        view.put("lastSyncAt", time(stats.getLastSyncAt()));
        view.put("lastSyncType", stats.getLastSyncType());
        view.put("totalAdded", stats.getTotalAdded());
        view.put("totalRemoved", stats.getTotalRemoved());
        view.put("batches", stats.getBatches());
        return view;
    }

    static Map<String, Object> member(final String objectId, final MembershipState state) {
        final Map<String, Object> view = new LinkedHashMap<>();
        view.put("objectId", objectId);
        view.put("identity", state.getIdentity());
        view.put("memberSince", time(state.getSince()));
        return view;
    }

    static Map<String, Object> profile(final Profile profile) {
        final Map<String, Object> view = new LinkedHashMap<>();
        view.put("accountId", profile.getAccountId());
        view.put("objectId", profile.getObjectId());
        view.put("identity", profile.getIdentity());
        view.put("email", profile.getEmail());
        view.put("phone", profile.getPhone());
        view.put("deviceIds", List.copyOf(profile.getDeviceIds()));
        view.put("aliases", Map.copyOf(profile.getAliases()));
        view.put("createdAt", profile.getCreatedAt().toString());
        view.put("updatedAt", profile.getUpdatedAt().toString());
        view.put("createdBy", profile.getCreatedBy());
        return view;
    }

    static Map<String, Object> profileSegment(final ProfileSegment segment) {
        final Map<String, Object> view = new LinkedHashMap<>();
        view.put("cohortId", segment.getCohortId());
        view.put("name", segment.getName());
        view.put("type", PartnerSyncEvents.SEGMENT_TYPE);
        view.put("memberSince", time(segment.getSince()));
        return view;
    }

    private static String time(final Long epochMillis) {
        return epochMillis == null ? null : Instant.ofEpochMilli(epochMillis).toString();
    }
}
