package io.cohortsync.http;

import io.cohortsync.avro.Profile;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.internal.MembershipState;
import io.cohortsync.internal.ProfileSegment;
import io.cohortsync.internal.SegmentStats;
import io.cohortsync.membership.MembershipTopology;
import io.cohortsync.membership.ProfileSegmentsTopology;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads of this instance's own partitions. Keys: segments {@code <account>|<cohort>}; members
 * {@code <account>|<cohort>|<objectId>} (in the segment's partition, so one range scan, in key order); profiles
 * {@code <account>|<objectId>}; profile segments {@code <account>|<objectId>|<cohort>}. Account and cohort ids never
 * contain '|', so a prefix ending in '|' matches exactly one account or segment.
 */
final class LocalQueries {

    private final StoreLocator locator;

    LocalQueries(final StoreLocator locator) {
        this.locator = locator;
    }

    /** The account's segments in this instance's partitions, and which partitions those were. */
    Map<String, Object> segments(final String accountId) {
        final List<Integer> partitions = new ArrayList<>(locator.localPartitions(MembershipTopology.SEGMENTS_STORE));
        final List<Map<String, Object>> segments = new ArrayList<>();
        for (final int partition : partitions) {
            final ReadOnlyKeyValueStore<String, SegmentStats> store =
                locator.store(MembershipTopology.SEGMENTS_STORE, partition);
            try (KeyValueIterator<String, SegmentStats> it = store.prefixScan(accountId + "|", StoreLocator.KEYS)) {
                it.forEachRemaining(entry -> segments.add(StoreViews.segment(entry.value)));
            }
        }
        final Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("partitions", partitions);
        answer.put("segments", segments);
        return answer;
    }

    Map<String, Object> segment(final String accountId, final String cohortId, final int partition) {
        return StoreViews.segment(segmentStats(accountId, cohortId, partition));
    }

    /** Up to {@code limit} members after {@code after} (exclusive), in objectId order; markers are skipped. */
    Map<String, Object> members(final String accountId, final String cohortId, final String after, final int limit,
                                final int partition) {
        segmentStats(accountId, cohortId, partition);
        final String prefix = accountId + "|" + cohortId + "|";
        final ReadOnlyKeyValueStore<String, MembershipState> store =
            locator.store(MembershipTopology.MEMBERS_STORE, partition);
        final String from = after == null ? prefix : prefix + after;
        final MemberPages.Page page;
        try (KeyValueIterator<String, MembershipState> it = store.range(from, upperBound(prefix))) {
            page = MemberPages.read(it, prefix, from, limit, MemberPages.MAX_MARKERS_PER_PAGE);
        }
        final Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("accountId", accountId);
        answer.put("cohortId", cohortId);
        answer.put("members", page.members());
        answer.put("next", page.next());
        return answer;
    }

    Map<String, Object> profile(final String accountId, final String objectId, final int partition) {
        final ReadOnlyKeyValueStore<String, Profile> store = locator.store(IdentityTopology.PROFILES_STORE, partition);
        final Profile profile = store.get(accountId + "|" + objectId);
        if (profile == null) {
            throw HttpError.notFound("no profile '" + objectId + "' in account '" + accountId + "'");
        }
        return StoreViews.profile(profile);
    }

    Map<String, Object> profileSegments(final String accountId, final String objectId, final int partition) {
        final ReadOnlyKeyValueStore<String, ProfileSegment> store =
            locator.store(ProfileSegmentsTopology.STORE, partition);
        final String prefix = accountId + "|" + objectId + "|";
        final List<Map<String, Object>> segments = new ArrayList<>();
        try (KeyValueIterator<String, ProfileSegment> it = store.prefixScan(prefix, StoreLocator.KEYS)) {
            it.forEachRemaining(entry -> {
                // An objectId may contain '|': keep only this profile's own keys.
                if (entry.key.equals(prefix + entry.value.getCohortId())) {
                    segments.add(StoreViews.profileSegment(entry.value));
                }
            });
        }
        final Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("accountId", accountId);
        answer.put("objectId", objectId);
        answer.put("segments", segments);
        return answer;
    }

    private SegmentStats segmentStats(final String accountId, final String cohortId, final int partition) {
        final ReadOnlyKeyValueStore<String, SegmentStats> store =
            locator.store(MembershipTopology.SEGMENTS_STORE, partition);
        final SegmentStats stats = store.get(accountId + "|" + cohortId);
        if (stats == null) {
            throw HttpError.notFound("no segment for cohort '" + cohortId + "' in account '" + accountId + "'");
        }
        return stats;
    }

    /** The smallest key above every key starting with {@code prefix} (which ends in '|', so '}' is next). */
    private static String upperBound(final String prefix) {
        return prefix.substring(0, prefix.length() - 1) + '}';
    }
}
