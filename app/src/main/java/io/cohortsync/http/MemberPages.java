package io.cohortsync.http;

import io.cohortsync.internal.MembershipState;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One page of a segment's members read from the members store, where non-members' markers sit between them. A page
 * reads at most {@code limit + MAX_MARKERS_PER_PAGE} entries, so a cohort most of whose users left cannot make one
 * page outlast the forwarding timeout; such a page may hold fewer than {@code limit} members and still have a next.
 */
final class MemberPages {

    static final int MAX_MARKERS_PER_PAGE = 10_000;

    /** @param next the objectId to pass as {@code after} for the following page, or null on the last page */
    record Page(List<Map<String, Object>> members, String next) {
    }

    private MemberPages() {
    }

    /** {@code entries}: the store from {@code from} on; keys outside {@code prefix} and {@code from} itself skipped. */
    static Page read(final KeyValueIterator<String, MembershipState> entries, final String prefix, final String from,
                     final int limit, final int maxMarkers) {
        final List<Map<String, Object>> members = new ArrayList<>();
        int markers = 0;
        String last = null;
        while (entries.hasNext()) {
            final KeyValue<String, MembershipState> entry = entries.next();
            if (!entry.key.startsWith(prefix) || entry.key.equals(from)) {
                continue;
            }
            final boolean member = entry.value.getMember();
            if (member && members.size() == limit || !member && markers == maxMarkers) {
                // Only markers lie between the last entry read and this one: either is a valid cursor.
                return new Page(members, last);
            }
            last = entry.key.substring(prefix.length());
            if (member) {
                members.add(StoreViews.member(last, entry.value));
            } else {
                markers++;
            }
        }
        return new Page(members, null);
    }
}
