package io.cohortsync.topology;

import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.internal.BatchInfo;
import io.cohortsync.internal.BatchOpened;
import io.cohortsync.internal.Resolution;
import io.cohortsync.internal.ResolvedChunk;
import io.cohortsync.internal.ResolvedMember;
import io.cohortsync.internal.SegmentStats;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.cohortsync.avro.Operation.ADD;
import static io.cohortsync.avro.Operation.REMOVE;
import static io.cohortsync.topology.TopologyFixture.batch;
import static io.cohortsync.topology.TopologyFixture.member;
import static io.cohortsync.topology.TopologyFixture.single;
import static io.cohortsync.topology.TopologyFixture.withDevice;
import static io.cohortsync.topology.TopologyFixture.withIdentity;
import static io.cohortsync.topology.TopologyFixture.withIdentityAndDevice;
import static io.cohortsync.topology.TopologyFixture.withUserId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * Adversarial cases of ARCHITECTURE section 5: exactly one Added/Removed per real change, whatever the batches repeat,
 * reorder or race. Each asserts the exact events (profile and Action), the reports and the segment's statistics.
 */
class MembershipExactnessTest extends TopologyDriverTest {

    /** One profile named three ways in one batch (two spellings of its identity, its CleverTap ID): one change. */
    @Test
    void aMemberNamedThreeWaysInOneBatchIsAddedAndRemovedOnce() {
        fx.profile("ct", "dev-a", "alice", "dev-a");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice"), withIdentity("ALICE"),
            withDevice("dev-a")));
        fx.request(batch("ct", "c1", "VIP", "m2", 2_000, REMOVE, withDevice("dev-a"), withIdentity("Alice"),
            withIdentity("alice")));

        assertThat(actions()).containsExactly("ct|dev-a Added", "ct|dev-a Removed");
        final List<SyncReport> reports = fx.reports();
        assertThat(reports).extracting(SyncReport::getMatched).containsExactly(3, 3);
        assertThat(reports).extracting(SyncReport::getAdded).containsExactly(1, 0);
        assertThat(reports).extracting(SyncReport::getRemoved).containsExactly(0, 1);
        assertThat(reports).extracting(SyncReport::getUnchanged).containsExactly(2, 2);
        assertStats("ct", "c1", 0, 1, 1, 2);
    }

    /** A new user listed twice, in two spellings, and in two chunks of one batch: one profile, one Added. */
    @Test
    void aNewUserListedTwiceInOneBatchIsCreatedAndAddedOnce() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentityAndDevice("Nina", "d-nina"),
            withIdentity("NINA"), withIdentity("nina")));

        final Profile created = single(fx.createdProfiles());
        assertThat(actions()).containsExactly("ct|" + created.getObjectId() + " Added");
        final SyncReport report = single(fx.reports());
        assertThat(List.of(report.getMembers(), report.getCreated(), report.getMatched(), report.getAdded(),
            report.getUnchanged())).containsExactly(3, 1, 2, 1, 2);
        assertStats("ct", "c1", 1, 1, 0, 1);
    }

    /** MATCH_ONLY: the external id in two spellings and the alias of the same profile, in ADD then REMOVE. */
    @Test
    void matchOnlyAProfileNamedByExternalIdAndAliasInOneBatchChangesOnce() {
        fx.profile(Profile.newBuilder().setAccountId("bz").setObjectId("b-1").setIdentity("ext-1")
            .setAliases(Map.of("braze_alias", "al-1")).setCreatedAt(Instant.EPOCH)
            .setUpdatedAt(Instant.EPOCH).build());
        fx.request(batch("bz", "c9", "Churners", "m1", 1_000, ADD, withUserId("ext-1"), withUserId("EXT-1"),
            member(null, null, Map.of("braze_alias", "al-1"))));
        fx.request(batch("bz", "c9", "Churners", "m2", 2_000, REMOVE,
            member(null, null, Map.of("braze_alias", "al-1")), withUserId("Ext-1")));

        assertThat(actions()).containsExactly("bz|b-1 Added", "bz|b-1 Removed");
        assertThat(fx.reports()).extracting(SyncReport::getUnchanged).containsExactly(2, 1);
        assertStats("bz", "c9", 0, 1, 1, 2);
    }

    /** Equal computedAt is not stale: the later batch applies, whichever operation it carries. */
    @Test
    void batchesWithEqualComputedAtApplyInArrivalOrder() {
        fx.profile("ct", "obj-1", "alice");
        fx.request(batch("ct", "c1", "VIP", "m1", 5_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m2", 5_000, REMOVE, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m3", 5_000, ADD, withIdentity("alice")));

        assertThat(actions()).containsExactly("ct|obj-1 Added", "ct|obj-1 Removed", "ct|obj-1 Added");
        assertThat(fx.reports()).extracting(SyncReport::getStale).containsOnly(0);
        assertStats("ct", "c1", 1, 2, 1, 3);
    }

    /** ADD b1, REMOVE b2, ADD b3 delivered b3, b1, b2: only the newest state counts, and no event is repeated. */
    @Test
    void threeBatchesDeliveredNewestFirstEndInTheNewestState() {
        fx.profile("ct", "obj-1", "alice");
        fx.profile("ct", "obj-2", "bob");
        fx.request(batch("ct", "c1", "VIP", "b3", 3_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "b1", 1_000, ADD, withIdentity("alice"), withIdentity("bob")));
        fx.request(batch("ct", "c1", "VIP", "b2", 2_000, REMOVE, withIdentity("alice"), withIdentity("bob")));

        assertThat(actions()).containsExactly("ct|obj-1 Added", "ct|obj-2 Added", "ct|obj-2 Removed");
        final List<SyncReport> reports = fx.reports();
        assertThat(reports).extracting(SyncReport::getStale).containsExactly(0, 1, 1);
        assertThat(reports).extracting(SyncReport::getRemoved).containsExactly(0, 0, 1);
        assertStats("ct", "c1", 1, 2, 1, 3);
        assertThat(fx.segment("ct", "c1").getLastSyncAt()).isEqualTo(3_000L);
    }

    /** A messageId names a batch of one cohort: reused with other content it is a duplicate; in another cohort or
     * account it is a new batch. */
    @Test
    void aReusedMessageIdIsADuplicateInItsCohortOnly() {
        fx.profile("ct", "obj-1", "alice");
        fx.profile("ct", "obj-2", "bob");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m1", 2_000, ADD, withIdentity("bob")));
        fx.request(batch("ct", "c1", "VIP", "m1", 3_000, REMOVE, withIdentity("alice")));
        fx.request(batch("ct", "c2", "Other", "m1", 1_000, ADD, withIdentity("bob")));
        fx.request(batch("ct2", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));

        final List<String> actions = actions();
        assertThat(actions).hasSize(3).startsWith("ct|obj-1 Added", "ct|obj-2 Added");
        assertThat(actions.get(2)).startsWith("ct2|__cs").endsWith(" Added");
        final List<SyncReport> reports = fx.reports();
        assertThat(reports).extracting(SyncReport::getDuplicate).containsExactly(false, true, true, false, false);
        assertThat(reports).extracting(SyncReport::getMembers).containsExactly(1, 1, 1, 1, 1);
        assertStats("ct", "c1", 1, 1, 0, 1);
        assertStats("ct", "c2", 1, 1, 0, 1);
        assertStats("ct2", "c1", 1, 1, 0, 1);
    }

    /**
     * Two batches whose chunks resolved in different partitions reach membership interleaved, each chunk before its
     * own header: the stale chunk changes nothing, every report closes once with its own counts.
     */
    @Test
    void interleavedChunksOfTwoBatchesArrivingBeforeTheirHeadersChangeEachProfileOnce() {
        final BatchInfo add = new BatchInfo("ct", "c1", "VIP", "b1", 1_000L, "ADD", "HOURLY");
        final BatchInfo remove = new BatchInfo("ct", "c1", "VIP", "b2", 2_000L, "REMOVE", "DAILY");
        fx.resolvedChunk(chunk(remove, "obj-1"));
        fx.resolvedChunk(chunk(add, "obj-1"));
        fx.batchHeader(new BatchOpened(add, false, 2, 2, Map.of()));
        fx.resolvedChunk(chunk(add, "obj-2"));
        fx.resolvedChunk(chunk(remove, "obj-2"));
        assertThat(fx.reports()).extracting(SyncReport::getMessageId).containsExactly("b1");
        fx.batchHeader(new BatchOpened(remove, false, 2, 2, Map.of()));

        assertThat(actions()).containsExactly("ct|obj-2 Added", "ct|obj-2 Removed");
        final SyncReport removeReport = single(fx.reports());
        assertThat(List.of(removeReport.getMatched(), removeReport.getRemoved(), removeReport.getUnchanged(),
            removeReport.getStale())).containsExactly(2, 1, 1, 0);
        assertStats("ct", "c1", 0, 1, 1, 2);
        assertThat(fx.segment("ct", "c1").getLastSyncType()).isEqualTo("DAILY");
    }

    /** A rename carried by a chunk that arrives before an older batch's header is not undone by that header. */
    @Test
    void anOlderHeaderArrivingLastDoesNotUndoANewerName() {
        final BatchInfo newer = new BatchInfo("ct", "c1", "New name", "b2", 2_000L, "ADD", "HOURLY");
        final BatchInfo older = new BatchInfo("ct", "c1", "Old name", "b1", 1_000L, "ADD", "DAILY");
        fx.resolvedChunk(chunk(newer, "obj-2"));
        fx.batchHeader(new BatchOpened(newer, false, 1, 1, Map.of()));
        fx.resolvedChunk(chunk(older, "obj-1"));
        fx.batchHeader(new BatchOpened(older, false, 1, 1, Map.of()));

        assertThat(fx.segment("ct", "c1").getName()).isEqualTo("New name");
        assertThat(fx.segment("ct", "c1").getLastSyncType()).isEqualTo("HOURLY");
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.value.getProperties().get("Partner Segment Name"))
            .containsExactly("New name", "New name");
        assertStats("ct", "c1", 2, 2, 0, 2);
    }

    /** The profile another cohort's batch just created is matched, not created again, and each segment adds it once. */
    @Test
    void aProfileCreatedByOneCohortIsMatchedByAnotherCohortsBatch() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("Zoe"), withDevice("d-zoe")));
        fx.request(batch("ct", "c2", "Churn", "m1", 1_000, ADD, withIdentity("zoe"), withDevice("d-zoe")));
        fx.request(batch("ct", "c1", "VIP", "m2", 2_000, REMOVE, withIdentity("ZOE"), withDevice("d-zoe")));

        final List<Profile> created = fx.createdProfiles();
        assertThat(created).extracting(Profile::getObjectId).hasSize(2).contains("d-zoe");
        final String zoe = created.stream().map(Profile::getObjectId).filter(id -> !id.equals("d-zoe")).findFirst()
            .orElseThrow();
        assertThat(actions()).containsExactlyInAnyOrder("ct|" + zoe + " Added", "ct|d-zoe Added",
            "ct|" + zoe + " Added", "ct|d-zoe Added", "ct|" + zoe + " Removed", "ct|d-zoe Removed");
        assertThat(fx.reports()).extracting(SyncReport::getCreated).containsExactly(2, 0, 0);
        assertStats("ct", "c1", 0, 2, 2, 2);
        assertStats("ct", "c2", 2, 2, 0, 1);
    }

    /** A profile the platform identifies between batches is still the member: REMOVE by its new identity removes it. */
    @Test
    void aProfileIdentifiedBetweenBatchesIsRemovedByItsNewIdentity() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withDevice("d-anon")));
        fx.profile("ct", "d-anon", "now-known", "d-anon");
        fx.request(batch("ct", "c1", "VIP", "m2", 2_000, ADD, withIdentity("NOW-KNOWN")));
        fx.request(batch("ct", "c1", "VIP", "m3", 3_000, REMOVE, withIdentity("now-known"), withDevice("d-anon")));

        assertThat(actions()).containsExactly("ct|d-anon Added", "ct|d-anon Removed");
        assertThat(fx.reports()).extracting(SyncReport::getUnchanged).containsExactly(0, 1, 1);
        assertStats("ct", "c1", 0, 1, 1, 3);
    }

    /** Side by side, a MATCH_ONLY account never creates what a CREATE_UNMATCHED account creates for the same user. */
    @Test
    void matchOnlyAndCreateUnmatchedAccountsSideBySide() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withUserId("u-1"), withIdentity("Sam"),
            withDevice("d-sam")));
        fx.request(batch("bz", "c1", "VIP", "m1", 1_000, ADD, withUserId("Sam"), withDevice("d-sam")));

        assertThat(fx.createdProfiles()).extracting(Profile::getAccountId).containsExactly("ct", "ct");
        assertThat(actions()).hasSize(2).allMatch(action -> action.startsWith("ct|") && action.endsWith(" Added"));
        final List<SyncReport> reports = fx.reports();
        assertThat(reports).extracting(SyncReport::getRejected).containsExactly(1, 0);
        assertThat(reports).extracting(SyncReport::getUnmatched).containsExactly(0, 2);
        assertStats("ct", "c1", 2, 2, 0, 1);
        assertStats("bz", "c1", 0, 0, 0, 1);
    }

    /** Every report's counts add up to its batch's members, and the statistics to the events emitted. */
    @Test
    void reportCountsSumToTheBatchAndStatisticsToTheEvents() {
        fx.profile("ct", "obj-1", "alice");
        fx.profile("ct", "obj-2", "bob");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice"), withIdentity("ALICE"),
            withIdentity("new-1"), member(null, null, Map.of()), withDevice("d-1")));
        fx.request(batch("ct", "c1", "VIP", "m2", 3_000, REMOVE, withIdentity("alice"), withIdentity("bob"),
            withIdentity("ghost"), member(null, null, Map.of()), withDevice("d-1")));
        fx.request(batch("ct", "c1", "VIP", "m3", 2_000, ADD, withIdentity("alice"), withIdentity("bob"),
            withIdentity("ghost"), withDevice("d-1")));

        final List<String> actions = actions();
        for (final SyncReport report : fx.reports()) {
            assertThat(report.getMatched() + report.getCreated() + report.getUnmatched() + report.getRejected())
                .as("report %s", report.getMessageId()).isEqualTo(report.getMembers());
            assertThat(report.getAdded() + report.getRemoved() + report.getUnchanged() + report.getStale())
                .as("report %s", report.getMessageId()).isEqualTo(report.getMatched() + report.getCreated());
        }
        final SegmentStats stats = fx.segment("ct", "c1");
        assertThat(actions.stream().filter(a -> a.endsWith("Added")).count()).isEqualTo(stats.getTotalAdded());
        assertThat(actions.stream().filter(a -> a.endsWith("Removed")).count()).isEqualTo(stats.getTotalRemoved());
        assertThat(stats.getMemberCount()).isEqualTo(stats.getTotalAdded() - stats.getTotalRemoved()).isOne();
        assertThat(actions).hasSize(5);
    }

    /** Markers swept by the wall clock while a batch is mid-flight: members stay, nothing is emitted twice. */
    @Test
    void aSweepWhileABatchIsMidFlightLosesNoMemberAndRepeatsNoEvent() throws Exception {
        restartWith(Map.of("membership.marker-retention", "1d", "ingest.message-id-retention", "1d"));
        final BatchInfo add = new BatchInfo("ct", "c1", "VIP", "b1", 1_000L, "ADD", "HOURLY");
        fx.batchHeader(new BatchOpened(add, false, 3, 3, Map.of()));
        fx.resolvedChunk(chunk(add, "obj-1"));
        fx.driver.advanceWallClockTime(Duration.ofDays(2));
        fx.resolvedChunk(chunk(add, "obj-1", "obj-2"));

        assertThat(actions()).containsExactly("ct|obj-1 Added", "ct|obj-2 Added");
        final SyncReport report = single(fx.reports());
        assertThat(List.of(report.getAdded(), report.getUnchanged())).containsExactly(2, 1);
        assertStats("ct", "c1", 2, 2, 0, 1);
        assertThat(fx.membershipStore()).containsOnlyKeys("ct|c1|obj-1", "ct|c1|obj-2");
    }

    /** A retry of an old batch after its messageId expired, but within the marker retention, stays stale. */
    @Test
    void aBatchRetriedAfterItsMessageIdExpiredIsStaleBehindANewerRemove() throws Exception {
        restartWith(Map.of("ingest.message-id-retention", "1d"));
        final long now = System.currentTimeMillis();
        fx.profile("ct", "obj-1", "alice");
        fx.request(batch("ct", "c1", "VIP", "m1", now - 60_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m2", now - 30_000, REMOVE, withIdentity("alice")));
        fx.driver.advanceWallClockTime(Duration.ofDays(1).plusMinutes(2));

        fx.request(batch("ct", "c1", "VIP", "m1", now - 60_000, ADD, withIdentity("alice")));

        assertThat(actions()).containsExactly("ct|obj-1 Added", "ct|obj-1 Removed");
        assertThat(fx.reports()).extracting(SyncReport::getDuplicate, SyncReport::getStale)
            .containsExactly(tuple(false, 0), tuple(false, 0), tuple(false, 1));
        assertStats("ct", "c1", 0, 1, 1, 3);
    }

    /** The platform deletes a device profile cohort-sync created; an ADD re-creates it, a REMOVE then removes it. */
    @Test
    void aDeletedDeviceProfileReCreatedByAnAddCanStillBeRemoved() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withDevice("d-gone")));
        fx.deleteProfile("ct", "d-gone");
        fx.request(batch("ct", "c1", "VIP", "m2", 2_000, ADD, withDevice("d-gone")));
        fx.request(batch("ct", "c1", "VIP", "m3", 3_000, REMOVE, withDevice("d-gone")));

        assertThat(fx.createdProfiles()).extracting(Profile::getObjectId).containsExactly("d-gone", "d-gone");
        assertThat(actions()).containsExactly("ct|d-gone Added", "ct|d-gone Removed");
        assertThat(fx.reports()).extracting(SyncReport::getCreated).containsExactly(1, 1, 0);
        assertStats("ct", "c1", 0, 1, 1, 3);
    }

    /**
     * A platform service that updates the profiles cohort-sync created and copies their headers (as a Kafka Streams
     * app does by default) changes the identity away and back: the profile must be found by it again, not duplicated.
     */
    @Test
    void aProfileWhoseIdentityReturnsWithACopiedHeaderIsMatchedAgain() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("Kim")));
        final Profile created = single(fx.createdProfiles());
        final Headers copied = new RecordHeaders().add("cohort-sync.indexed-key",
            "cohort-sync\nct|i|kim".getBytes(StandardCharsets.UTF_8));
        fx.profile(Profile.newBuilder(created).setIdentity("kim-old").build(), copied);
        fx.profile(Profile.newBuilder(created).setIdentity("Kim").build(), copied);

        fx.request(batch("ct", "c1", "VIP", "m2", 2_000, REMOVE, withIdentity("kim")));

        assertThat(fx.createdProfiles()).isEmpty();
        assertThat(actions()).containsExactly("ct|" + created.getObjectId() + " Added",
            "ct|" + created.getObjectId() + " Removed");
        assertStats("ct", "c1", 0, 1, 1, 2);
    }

    /**
     * A profile of an account whose id holds '|' would own another account's index keys ('ct|i' + 'o|obj-x' is
     * 'ct' + 'i|o|obj-x'): it is dead-lettered, and account 'ct' creates its own profiles.
     */
    @Test
    void aProfileOfAnAccountWhoseIdHoldsTheSeparatorIsNeverMatchedByAnotherAccount() {
        fx.profile("ct|i", "obj-x", null, "dev-x");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("o|obj-x"), withIdentity("d|dev-x")));

        assertThat(fx.partnerSyncEvents()).extracting(e -> e.value.getObjectId()).hasSize(2)
            .allMatch(objectId -> objectId.startsWith("__cs"));
        assertThat(fx.createdProfiles()).extracting(Profile::getAccountId).containsExactly("ct", "ct");
        assertThat(single(fx.reports()).getCreated()).isEqualTo(2);
        assertThat(single(fx.deadLetters()).getReasonCode()).isEqualTo("INVALID_ID");
    }

    /**
     * MATCH_ONLY: a device id the platform moves from one anonymous profile to another names the new owner from then
     * on. The old owner keeps the membership it has (as a deleted profile does) until a REMOVE names it.
     */
    @Test
    void matchOnlyADeviceIdMovedToAnotherProfileChangesOnlyTheNewOwner() {
        fx.profile("bz", "b-1", null, "dev-moved");
        fx.request(batch("bz", "c9", "Churners", "m1", 1_000, ADD, withDevice("dev-moved")));
        fx.profile("bz", "b-2", null, "dev-moved");
        fx.profile("bz", "b-1", null, "dev-other");

        fx.request(batch("bz", "c9", "Churners", "m2", 2_000, ADD, withDevice("dev-moved")));
        fx.request(batch("bz", "c9", "Churners", "m3", 3_000, REMOVE, withDevice("dev-moved"),
            withDevice("dev-other")));

        assertThat(actions()).containsExactly("bz|b-1 Added", "bz|b-2 Added", "bz|b-2 Removed", "bz|b-1 Removed");
        assertThat(fx.reports()).extracting(SyncReport::getMatched).containsExactly(1, 1, 2);
        assertStats("bz", "c9", 0, 2, 2, 3);
    }

    /** A retry dropped at ingest while its original still waits for chunks reports a duplicate and changes nothing. */
    @Test
    void aDuplicateOfABatchStillMidFlightIsReportedWithoutTouchingTheOriginal() {
        final BatchInfo add = new BatchInfo("ct", "c1", "VIP", "b1", 1_000L, "ADD", "HOURLY");
        fx.batchHeader(new BatchOpened(add, false, 2, 2, Map.of()));
        fx.resolvedChunk(chunk(add, "obj-1"));
        fx.batchHeader(new BatchOpened(add, true, 2, 0, Map.of()));
        fx.resolvedChunk(chunk(add, "obj-2"));

        assertThat(actions()).containsExactly("ct|obj-1 Added", "ct|obj-2 Added");
        assertThat(fx.reports()).extracting(SyncReport::getDuplicate, SyncReport::getAdded)
            .containsExactly(tuple(true, 0), tuple(false, 2));
        assertStats("ct", "c1", 2, 2, 0, 1);
    }

    private static ResolvedChunk chunk(final BatchInfo batch, final String... objectIds) {
        return new ResolvedChunk(batch, Arrays.stream(objectIds)
            .map(id -> new ResolvedMember(Resolution.MATCHED, id, null)).toList());
    }

    private List<String> actions() {
        return fx.partnerSyncEvents().stream()
            .map(event -> event.key + " " + event.value.getProperties().get("Action")).toList();
    }

    private void assertStats(final String accountId, final String cohortId, final long members, final long added,
                             final long removed, final long batches) {
        final SegmentStats stats = fx.segment(accountId, cohortId);
        assertThat(List.of(stats.getMemberCount(), stats.getTotalAdded(), stats.getTotalRemoved(), stats.getBatches()))
            .as("members, totalAdded, totalRemoved, batches of %s|%s", accountId, cohortId)
            .containsExactly(members, added, removed, batches);
    }
}
