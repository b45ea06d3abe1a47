package io.cohortsync.http;

import io.cohortsync.internal.MembershipState;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class MemberPagesTest {

    private static final String PREFIX = "ct|c1|";

    @Test
    void pagesHoldLimitMembersSkipMarkersAndEndWithANullNext() {
        final NavigableMap<String, MembershipState> store = new TreeMap<>();
        for (int i = 0; i < 5; i++) {
            store.put(PREFIX + "m" + i, state(true));
            store.put(PREFIX + "m" + i + "-left", state(false));
        }
        store.put("ct|c2|other", state(true));

        final List<String> seen = new ArrayList<>();
        String after = null;
        int pages = 0;
        do {
            final MemberPages.Page page = page(store, after, 2, 100);
            page.members().forEach(member -> seen.add((String) member.get("objectId")));
            after = page.next();
            pages++;
        } while (after != null);

        assertThat(seen).containsExactly("m0", "m1", "m2", "m3", "m4");
        assertThat(pages).as("no empty last page behind trailing markers").isEqualTo(3);
    }

    /** A cohort most of whose users left: each page stops after its share of markers, and the cursor moves on. */
    @Test
    void aPageReadsAtMostItsShareOfMarkersAndStillReachesEveryMember() {
        final NavigableMap<String, MembershipState> store = new TreeMap<>();
        for (int i = 0; i < 1_000; i++) {
            store.put(PREFIX + String.format("gone-%04d", i), state(false));
        }
        store.put(PREFIX + "stayed", state(true));

        final MemberPages.Page first = page(store, null, 10, 300);
        assertThat(first.members()).isEmpty();
        assertThat(first.next()).isEqualTo("gone-0299");

        final List<String> seen = new ArrayList<>();
        String after = first.next();
        int pages = 1;
        while (after != null) {
            final MemberPages.Page page = page(store, after, 10, 300);
            page.members().forEach(member -> seen.add((String) member.get("objectId")));
            after = page.next();
            pages++;
        }
        assertThat(seen).containsExactly("stayed");
        assertThat(pages).isEqualTo(4);
    }

    private static MemberPages.Page page(final NavigableMap<String, MembershipState> store, final String after,
                                         final int limit, final int maxMarkers) {
        final String from = after == null ? PREFIX : PREFIX + after;
        return MemberPages.read(iterator(store.tailMap(from, true)), PREFIX, from, limit, maxMarkers);
    }

    private static MembershipState state(final boolean member) {
        return new MembershipState(member, 1_000L, 1_000L, null);
    }

    private static KeyValueIterator<String, MembershipState> iterator(final Map<String, MembershipState> entries) {
        final Iterator<Map.Entry<String, MembershipState>> it = entries.entrySet().iterator();
        return new KeyValueIterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public KeyValue<String, MembershipState> next() {
                final Map.Entry<String, MembershipState> entry = it.next();
                return KeyValue.pair(entry.getKey(), entry.getValue());
            }

            @Override
            public void close() {
            }

            @Override
            public String peekNextKey() {
                throw new UnsupportedOperationException();
            }
        };
    }
}
