package io.cohortsync.topology;

import io.cohortsync.avro.Member;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.SyncReport;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

import static io.cohortsync.avro.Operation.ADD;
import static io.cohortsync.avro.Operation.REMOVE;
import static io.cohortsync.topology.TopologyFixture.batch;
import static io.cohortsync.topology.TopologyFixture.withDevice;
import static io.cohortsync.topology.TopologyFixture.withIdentity;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Identity resolution holds syncs until the profile table has read the profiles that were on the profiles topic at
 * start (the service's {@code ProfileTableCatchUp}; here a flag), then resolves them oldest first.
 */
class HeldSyncsTopologyTest {

    private static final Duration PAST_A_RELEASE = Duration.ofSeconds(1);

    private final AtomicBoolean profilesLoaded = new AtomicBoolean(false);
    private TopologyFixture fx;

    @BeforeEach
    void start() throws Exception {
        fx = new TopologyFixture(Map.of(), TopologyFixture.ACCOUNTS, profilesLoaded::get);
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    @Test
    void heldSyncsAreResolvedInOrderAgainstTheProfilesReadMeanwhile() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("Alice")));
        fx.request(batch("ct", "c1", "VIP", "m2", 2_000, REMOVE, withIdentity("alice")));
        fx.profile("ct", "obj-1", "alice");
        fx.driver.advanceWallClockTime(PAST_A_RELEASE);

        assertThat(fx.partnerSyncEvents()).as("held while the profiles are not loaded").isEmpty();
        assertThat(fx.reports()).isEmpty();

        profilesLoaded.set(true);
        fx.driver.advanceWallClockTime(PAST_A_RELEASE);

        assertThat(fx.partnerSyncEvents()).extracting(KeyValueDescription::of)
            .containsExactly("ct|obj-1 Added", "ct|obj-1 Removed");
        assertThat(fx.createdProfiles()).isEmpty();
        assertThat(fx.reports()).extracting(SyncReport::getMessageId, SyncReport::getMatched, SyncReport::getCreated)
            .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("m1", 1, 0),
                org.assertj.core.groups.Tuple.tuple("m2", 1, 0));
    }

    @Test
    void aSyncArrivingOnceProfilesAreLoadedWaitsBehindTheHeldOnes() {
        fx.profile("ct", "obj-1", "alice");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));
        profilesLoaded.set(true);
        // Before the next release: resolved at once, this REMOVE would find no member and the held ADD would win.
        fx.request(batch("ct", "c1", "VIP", "m2", 2_000, REMOVE, withIdentity("alice")));
        assertThat(fx.partnerSyncEvents()).isEmpty();

        fx.driver.advanceWallClockTime(PAST_A_RELEASE);

        assertThat(fx.partnerSyncEvents()).extracting(KeyValueDescription::of)
            .containsExactly("ct|obj-1 Added", "ct|obj-1 Removed");
        assertThat(fx.segment("ct", "c1").getMemberCount()).isZero();
    }

    @Test
    void aLargeBacklogIsReleasedInSlicesOfAboutTenThousandMembers() {
        final int batches = 12;
        for (int b = 0; b < batches; b++) {
            final int first = b * 1_000;
            fx.request(batch("ct", "c1", "Devices", "m" + b, 1_000 + b, ADD, IntStream.range(first, first + 1_000)
                .mapToObj(i -> withDevice("device-" + i)).toArray(Member[]::new)));
        }
        profilesLoaded.set(true);

        fx.driver.advanceWallClockTime(PAST_A_RELEASE);
        final int firstSlice = fx.partnerSyncEvents().size();
        fx.driver.advanceWallClockTime(PAST_A_RELEASE);
        final int secondSlice = fx.partnerSyncEvents().size();

        assertThat(firstSlice).isBetween(10_000, 11_000);
        assertThat(firstSlice + secondSlice).isEqualTo(batches * 1_000);
        assertThat(fx.reports()).hasSize(batches);
    }

    /** "key Action" of a Partner Sync event. */
    private static final class KeyValueDescription {
        static String of(final KeyValue<String, PartnerSyncEvent> event) {
            return event.key + " " + event.value.getProperties().get("Action");
        }
    }
}
