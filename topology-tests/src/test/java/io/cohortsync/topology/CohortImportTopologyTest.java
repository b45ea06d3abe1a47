package io.cohortsync.topology;

import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.internal.BatchInfo;
import io.cohortsync.internal.BatchOpened;
import io.cohortsync.internal.Resolution;
import io.cohortsync.internal.ResolvedChunk;
import io.cohortsync.internal.ResolvedMember;
import io.cohortsync.internal.SegmentStats;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
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

class CohortImportTopologyTest extends TopologyDriverTest {

    @Test
    void seedScenario1_identityDifferingOnlyInCaseMatchesTheExistingProfile() {
        fx.profile("ct", "obj-1", "clevertap1");
        fx.request(batch("ct", "c1", "Cart Drop off", "m1", 1_000, ADD, withIdentity("Clevertap1")));

        final List<KeyValue<String, PartnerSyncEvent>> events = fx.partnerSyncEvents();
        assertThat(events).hasSize(1);
        assertThat(events.get(0).key).isEqualTo("ct|obj-1");
        final PartnerSyncEvent event = events.get(0).value;
        assertThat(event.getEventName()).isEqualTo("Partner Sync");
        assertThat(event.getObjectId()).isEqualTo("obj-1");
        assertThat(event.getIdentity()).isEqualTo("clevertap1");
        assertThat(event.getProperties()).containsExactlyInAnyOrderEntriesOf(Map.of(
            "Partner Segment Name", "Cart Drop off", "Action", "Added", "Partner Segment ID", "c1",
            "CT Source", "Amplitude", "Partner Name", "Amplitude"));
        assertThat(fx.createdProfiles()).isEmpty();
        final SyncReport report = single(fx.reports());
        assertThat(report.getMatched()).isEqualTo(1);
        assertThat(report.getAdded()).isEqualTo(1);
        assertThat(report.getCreated()).isZero();
    }

    @Test
    void seedScenario2_aDifferentIdentityCreatesASecondProfileThatJoins() {
        fx.profile("ct", "obj-2", "CleverTap2");
        fx.request(batch("ct", "c1", "Cart Drop off", "m1", 1_000, ADD, withIdentity("CleverTap1")));

        final Profile created = single(fx.createdProfiles());
        assertThat(created.getIdentity()).isEqualTo("CleverTap1");
        assertThat(created.getObjectId()).isNotEqualTo("obj-2").startsWith("__cs");
        assertThat(created.getCreatedBy()).isEqualTo("partner-sync:Amplitude");
        final KeyValue<String, PartnerSyncEvent> event = single(fx.partnerSyncEvents());
        assertThat(event.key).isEqualTo("ct|" + created.getObjectId());
        assertThat(event.value.getProperties()).containsEntry("Action", "Added");
        final SyncReport report = single(fx.reports());
        assertThat(report.getCreated()).isEqualTo(1);
        assertThat(report.getAdded()).isEqualTo(1);
    }

    @Test
    void seedScenario3_deviceIdOnlyBecomesTheObjectIdOfANewProfile() {
        fx.request(batch("ct", "c1", "Cart Drop off", "m1", 1_000, ADD, withDevice("543C-3455-4555-3SRD")));

        final Profile created = single(fx.createdProfiles());
        assertThat(created.getObjectId()).isEqualTo("543C-3455-4555-3SRD");
        assertThat(created.getIdentity()).isNull();
        assertThat(created.getDeviceIds()).containsExactly("543C-3455-4555-3SRD");
        final KeyValue<String, PartnerSyncEvent> event = single(fx.partnerSyncEvents());
        assertThat(event.key).isEqualTo("ct|543C-3455-4555-3SRD");
        assertThat(event.value.getProperties()).containsEntry("Action", "Added");
    }

    @Test
    void removeOfAMemberEmitsRemovedAndRemoveOfANonMemberEmitsNothing() {
        fx.profile("ct", "obj-1", "alice");
        fx.profile("ct", "obj-2", "bob");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));
        fx.partnerSyncEvents();
        fx.reports();

        fx.request(batch("ct", "c1", "VIP", "m2", 2_000, REMOVE, withIdentity("alice"), withIdentity("bob")));

        final KeyValue<String, PartnerSyncEvent> event = single(fx.partnerSyncEvents());
        assertThat(event.key).isEqualTo("ct|obj-1");
        assertThat(event.value.getProperties()).containsEntry("Action", "Removed");
        final SyncReport report = single(fx.reports());
        assertThat(report.getRemoved()).isEqualTo(1);
        assertThat(report.getUnchanged()).isEqualTo(1);
        assertThat(fx.segment("ct", "c1").getMemberCount()).isZero();
        assertThat(fx.segment("ct", "c1").getTotalRemoved()).isEqualTo(1);
    }

    @Test
    void aRemoveNeverCreatesAProfile() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, REMOVE, withIdentity("unknown-user"), withDevice("dev-99999")));

        assertThat(fx.createdProfiles()).isEmpty();
        assertThat(fx.partnerSyncEvents()).isEmpty();
        assertThat(single(fx.reports()).getUnmatched()).isEqualTo(2);
    }

    @Test
    void addOfAMemberEmitsNothing() {
        fx.profile("ct", "obj-1", "alice");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m2", 2_000, ADD, withIdentity("ALICE")));

        assertThat(fx.partnerSyncEvents()).hasSize(1);
        final List<SyncReport> reports = fx.reports();
        assertThat(reports).extracting(SyncReport::getAdded).containsExactly(1, 0);
        assertThat(reports).extracting(SyncReport::getUnchanged).containsExactly(0, 1);
    }

    @Test
    void aDuplicateBatchChangesNothingAndIsReportedAsDuplicate() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice"), withDevice("dev-12345")));
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice"), withDevice("dev-12345")));

        assertThat(fx.partnerSyncEvents()).hasSize(2);
        assertThat(fx.createdProfiles()).hasSize(2);
        final List<SyncReport> reports = fx.reports();
        assertThat(reports).extracting(SyncReport::getDuplicate).containsExactly(false, true);
        final SyncReport duplicate = reports.get(1);
        assertThat(duplicate.getMembers()).as("the batch's size").isEqualTo(2);
        assertThat(List.of(duplicate.getMatched(), duplicate.getCreated(), duplicate.getUnmatched(),
            duplicate.getRejected(), duplicate.getAdded(), duplicate.getRemoved(), duplicate.getUnchanged(),
            duplicate.getStale())).containsOnly(0);
        assertThat(fx.segment("ct", "c1").getMemberCount()).isEqualTo(2);
        assertThat(fx.segment("ct", "c1").getBatches()).isEqualTo(1);
    }

    @Test
    void aRemoveComputedBeforeAnAddButArrivingAfterItChangesNothing() {
        fx.profile("ct", "obj-1", "alice");
        fx.request(batch("ct", "c1", "VIP", "m-add", 2_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m-remove", 1_000, REMOVE, withIdentity("alice")));

        assertThat(fx.partnerSyncEvents()).extracting(e -> e.value.getProperties().get("Action"))
            .containsExactly("Added");
        assertThat(fx.reports()).extracting(SyncReport::getStale).containsExactly(0, 1);
        assertThat(fx.segment("ct", "c1").getMemberCount()).isEqualTo(1);
    }

    @Test
    void anAddComputedBeforeARemoveButArrivingAfterItChangesNothing() {
        fx.profile("ct", "obj-1", "alice");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m3", 3_000, REMOVE, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m2", 2_000, ADD, withIdentity("alice")));

        assertThat(fx.partnerSyncEvents()).extracting(e -> e.value.getProperties().get("Action"))
            .containsExactly("Added", "Removed");
        assertThat(fx.segment("ct", "c1").getMemberCount()).isZero();
    }

    /** The REMOVE finds no profile (and creates none); the ADD it outdates, arriving later, must not add the user. */
    @Test
    void anAddComputedBeforeARemoveOfAnUnknownUserButArrivingAfterItAddsNobody() {
        fx.request(batch("ct", "c1", "VIP", "m2", 3_000, REMOVE, withIdentity("Newbie"), withDevice("dev-new-1")));
        fx.request(batch("ct", "c1", "VIP", "m1", 2_000, ADD, withIdentity("Newbie"), withDevice("dev-new-1")));

        assertThat(fx.partnerSyncEvents()).isEmpty();
        final List<SyncReport> reports = fx.reports();
        assertThat(reports).extracting(SyncReport::getUnmatched).containsExactly(2, 0);
        assertThat(reports).extracting(SyncReport::getStale).containsExactly(0, 2);
        assertThat(fx.segment("ct", "c1").getMemberCount()).isZero();

        fx.request(batch("ct", "c1", "VIP", "m3", 4_000, ADD, withIdentity("newbie"), withDevice("dev-new-1")));
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.value.getProperties().get("Action"))
            .containsExactly("Added", "Added");
        assertThat(fx.segment("ct", "c1").getMemberCount()).isEqualTo(2);
    }

    @Test
    void matchOnlyUsesTheSecondaryIdentifierWhenThePrimaryIsMissing() {
        fx.profile(Profile.newBuilder(profile("bz", "b-1", "ext-1"))
            .setAliases(Map.of("braze_alias", "alias-9")).build());
        fx.request(batch("bz", "c9", "Churners", "m1", 1_000, ADD,
            member(null, null, Map.of("braze_alias", "alias-9"))));

        final KeyValue<String, PartnerSyncEvent> event = single(fx.partnerSyncEvents());
        assertThat(event.key).isEqualTo("bz|b-1");
        assertThat(single(fx.reports()).getMatched()).isEqualTo(1);
    }

    @Test
    void matchOnlyMatchesTheExternalIdFirst() {
        fx.profile("bz", "b-1", "ext-1");
        fx.profile("bz", "b-2", null, "device-77777");
        fx.request(batch("bz", "c9", "Churners", "m1", 1_000, ADD, member("EXT-1", "device-77777", Map.of())));

        assertThat(single(fx.partnerSyncEvents()).key).isEqualTo("bz|b-1");
    }

    @Test
    void matchOnlyDropsAnUnknownUserAndCreatesNoProfile() {
        fx.request(batch("bz", "c9", "Churners", "m1", 1_000, ADD, withUserId("stranger"), withDevice("dev-unknown")));

        assertThat(fx.partnerSyncEvents()).isEmpty();
        assertThat(fx.createdProfiles()).isEmpty();
        final SyncReport report = single(fx.reports());
        assertThat(report.getUnmatched()).isEqualTo(2);
        assertThat(report.getMembers()).isEqualTo(2);
    }

    @Test
    void matchOnlyNeverMatchesAnIdentifiedProfileByDeviceId() {
        fx.profile("bz", "b-anon", null, "dev-anon-1");
        fx.profile("bz", "b-known", "known-user", "dev-known-1");
        fx.request(batch("bz", "c9", "Churners", "m1", 1_000, ADD, withDevice("dev-known-1"), withDevice("dev-anon-1")));

        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key).containsExactly("bz|b-anon");
        final SyncReport report = single(fx.reports());
        assertThat(report.getMatched()).isEqualTo(1);
        assertThat(report.getUnmatched()).isEqualTo(1);
    }

    @Test
    void aProfileThatBecomesIdentifiedIsNoLongerMatchedByDeviceId() {
        fx.profile("bz", "b-1", null, "dev-1-aaaa");
        fx.profile("bz", "b-1", "now-known", "dev-1-aaaa");
        fx.request(batch("bz", "c9", "Churners", "m1", 1_000, ADD, withDevice("dev-1-aaaa")));

        assertThat(fx.partnerSyncEvents()).isEmpty();
        assertThat(single(fx.reports()).getUnmatched()).isEqualTo(1);
    }

    /**
     * The profile cohort-sync created for 'x-user' became 'y-user' on the platform. The next 'x-user' gets a profile
     * of its own under a new objectId: re-creating the derived one would write over the platform's profile.
     */
    @Test
    void aProfileCreatedForAnIdentityThePlatformLaterChangedIsNeverWrittenOver() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("x-user")));
        final String first = single(fx.createdProfiles()).getObjectId();
        fx.profile("ct", first, "y-user", "dev-y-1");

        fx.request(batch("ct", "c2", "Churn", "m2", 2_000, ADD, withIdentity("X-User")));

        final Profile second = single(fx.createdProfiles());
        assertThat(second.getObjectId()).isNotEqualTo(first).startsWith("__cs");
        assertThat(second.getIdentity()).isEqualTo("X-User");
        assertThat(fx.identityIndex()).containsEntry("ct|i|x-user", second.getObjectId())
            .containsEntry("ct|i|y-user", first);
        fx.request(batch("ct", "c3", "Fans", "m3", 3_000, ADD, withIdentity("y-user")));
        assertThat(fx.createdProfiles()).isEmpty();
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key)
            .containsExactly("ct|" + first, "ct|" + second.getObjectId(), "ct|" + first);
    }

    /** A replay of the second creation, or a third 'x-user', finds the second profile: the ids stay deterministic. */
    @Test
    void theObjectIdAfterAReleaseIsDerivedAgainOnReplay() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("x-user")));
        final String first = single(fx.createdProfiles()).getObjectId();
        fx.deleteProfile("ct", first);
        fx.request(batch("ct", "c2", "Churn", "m2", 2_000, ADD, withIdentity("x-user")));
        final String second = single(fx.createdProfiles()).getObjectId();

        fx.request(batch("ct", "c3", "Fans", "m3", 3_000, ADD, withIdentity("x-user")));

        assertThat(second).isNotEqualTo(first);
        assertThat(fx.createdProfiles()).isEmpty();
        assertThat(fx.identityIndex()).containsEntry("ct|i|x-user", second);
        try (TopologyFixture other = new TopologyFixture()) {
            other.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("x-user")));
            other.deleteProfile("ct", first);
            other.request(batch("ct", "c2", "Churn", "m2", 2_000, ADD, withIdentity("x-user")));
            assertThat(other.createdProfiles()).extracting(Profile::getObjectId).containsExactly(first, second);
        } catch (final Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A reset that replays the profiles topic does not index again the key of a profile cohort-sync created (its
     * header names that key). When the platform then changes its identity, the key still moves on to a new objectId.
     */
    @Test
    void aGeneratedIdReleasedWhileItsKeyWasNotIndexedIsNeverMadeAgain() throws Exception {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("x-user")));
        final Profile first = single(fx.createdProfiles());

        try (TopologyFixture replayed = new TopologyFixture()) {
            replayed.profile(first, new RecordHeaders().add("cohort-sync.indexed-key",
                "cohort-sync\nct|i|x-user".getBytes(StandardCharsets.UTF_8)));
            assertThat(replayed.identityIndex()).doesNotContainKey("ct|i|x-user");
            replayed.profile("ct", first.getObjectId(), "y-user");
            replayed.request(batch("ct", "c2", "Churn", "m2", 2_000, ADD, withIdentity("x-user")));

            assertThat(single(replayed.createdProfiles()).getObjectId()).isNotEqualTo(first.getObjectId());
        }
    }

    /** Index updates from different profile partitions interleave: a key two profiles have must outlive either. */
    @Test
    void aDeviceIdTwoAnonymousProfilesShareStillMatchesOneWhenTheOtherIsIdentified() {
        fx.profile("bz", "b-1", null, "dev-shared");
        fx.profile("bz", "b-2", null, "dev-shared");
        fx.profile("bz", "b-2", "known-user", "dev-shared");

        fx.request(batch("bz", "c9", "Churners", "m1", 1_000, ADD, withDevice("dev-shared")));

        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key).containsExactly("bz|b-1");
    }

    @Test
    void anIdentityTwoProfilesShareStillMatchesOneWhenTheOtherIsDeleted() {
        fx.profile("ct", "obj-1", "Carol");
        fx.profile("ct", "obj-2", "carol");
        fx.deleteProfile("ct", "obj-2");

        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("CAROL")));

        assertThat(fx.createdProfiles()).isEmpty();
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key).containsExactly("ct|obj-1");
    }

    /** The last profile to claim a shared key is the one matched, as before the key kept all its owners. */
    @Test
    void theLatestProfileToClaimASharedIdentityIsMatched() {
        fx.profile("ct", "obj-1", "Carol");
        fx.profile("ct", "obj-2", "carol");

        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("carol")));

        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key).containsExactly("ct|obj-2");
    }

    /** Under MATCH_ONLY no sync ever creates the profile, so a marker under a generated id would only take space. */
    @Test
    void matchOnlyKeepsNoMarkerForARemoveOfAnUnknownUser() {
        fx.request(batch("bz", "c9", "Churners", "m1", 1_000, REMOVE, withUserId("stranger")));

        assertThat(single(fx.reports()).getUnmatched()).isEqualTo(1);
        assertThat(fx.membershipStore()).isEmpty();
    }

    @Test
    void aCohortRenameUpdatesTheSegmentName() {
        fx.profile("ct", "obj-1", "alice");
        fx.profile("ct", "obj-2", "bob");
        fx.request(batch("ct", "c1", "Old name", "m1", 1_000, ADD, withIdentity("alice")));
        assertThat(fx.segment("ct", "c1").getName()).isEqualTo("Old name");

        fx.request(batch("ct", "c1", "New name", "m2", 2_000, ADD, withIdentity("bob")));

        assertThat(fx.segment("ct", "c1").getName()).isEqualTo("New name");
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.value.getProperties().get("Partner Segment Name"))
            .containsExactly("Old name", "New name");
    }

    @Test
    void twoAccountsWithTheSameIdentityStaySeparate() {
        fx.profile("ct", "obj-1", "shared@example.com");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("shared@example.com")));
        fx.request(batch("ct2", "c1", "VIP", "m1", 1_000, ADD, withIdentity("shared@example.com")));

        final List<KeyValue<String, PartnerSyncEvent>> events = fx.partnerSyncEvents();
        assertThat(events).hasSize(2);
        assertThat(events.get(0).key).isEqualTo("ct|obj-1");
        assertThat(events.get(1).key).startsWith("ct2|__cs");
        assertThat(single(fx.createdProfiles()).getAccountId()).isEqualTo("ct2");
        assertThat(fx.segment("ct", "c1").getMemberCount()).isEqualTo(1);
        assertThat(fx.segment("ct2", "c1").getMemberCount()).isEqualTo(1);
    }

    @Test
    void replayingTheSameNewIdentityNeverCreatesASecondProfile() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentityAndDevice("New-User", "d-1111")));
        fx.request(batch("ct", "c2", "Other", "m2", 1_000, ADD, withIdentity("new-user")));
        fx.request(batch("ct", "c1", "VIP", "m3", 2_000, ADD, withIdentity("NEW-USER"), withIdentity("new-user")));

        final Profile created = single(fx.createdProfiles());
        assertThat(created.getIdentity()).isEqualTo("New-User");
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key).containsOnly("ct|" + created.getObjectId());
    }

    /** A replay (a fresh task re-processing the same request) must create the same profile, not a second one. */
    @Test
    void aReplayedRequestCreatesAProfileWithTheSameObjectId() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("New-User"), withDevice("d-5")));
        final List<String> first = fx.createdProfiles().stream().map(Profile::getObjectId).toList();
        fx.close();

        fx = assertDoesNotThrow();
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("New-User"), withDevice("d-5")));

        assertThat(first).hasSize(2);
        assertThat(fx.createdProfiles()).extracting(Profile::getObjectId).containsExactlyElementsOf(first);
    }

    @Test
    void aDeviceOnlyMemberMatchesTheDeviceProfileAndCanBeRemoved() {
        fx.profile("ct", "dev-1", null, "dev-1");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withDevice("dev-1")));
        fx.request(batch("ct", "c1", "VIP", "m2", 2_000, REMOVE, withDevice("dev-1")));

        assertThat(fx.createdProfiles()).isEmpty();
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key + " " + e.value.getProperties().get("Action"))
            .containsExactly("ct|dev-1 Added", "ct|dev-1 Removed");
        final List<SyncReport> reports = fx.reports();
        assertThat(reports).extracting(SyncReport::getMatched).containsExactly(1, 1);
        assertThat(reports).extracting(SyncReport::getCreated).containsExactly(0, 0);
    }

    @Test
    void aProfileWithAnIdentifierTheIndexCannotCarryIsDeadLetteredAndTheNextIsIndexed() {
        fx.profile("ct", "obj-long", "x".repeat(1_025));
        fx.profile("ct", "obj-2", null, "d".repeat(1_025));
        // An identified profile's device ids are not indexed: a long one does no harm.
        fx.profile("ct", "obj-ok", "alice", "d".repeat(1_025));
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));

        assertThat(fx.deadLetters()).extracting(DeadLetter::getReasonCode, DeadLetter::getMessage)
            .satisfiesExactly(
                dead -> assertThat(dead.toList()).containsExactly("VALUE_TOO_LONG",
                    "the profile's identity is over 1024 characters (for an alias: its account, label and name "
                        + "together over 1,280); the identity index cannot carry it. The profile's previous version, "
                        + "if any, stays in the profile table and the index"),
                dead -> assertThat(dead.toList().get(1)).asString().startsWith("the profile's device id is over"));
        assertThat(single(fx.partnerSyncEvents()).key).isEqualTo("ct|obj-ok");
        assertThat(fx.identityIndex()).doesNotContainKey("ct|o|obj-long").doesNotContainKey("ct|o|obj-2");
    }

    /**
     * Markers of non-members expire after membership.marker-retention, swept a slice of the store per minute so a
     * large store never holds the stream thread for long; members are never swept.
     */
    @Test
    void expiredMarkersAreSweptASliceAMinuteAndMembersStay() throws Exception {
        restartWith(Map.of("membership.marker-retention", "1d"));
        fx.profile("ct", "obj-1", "alice");
        fx.request(batch("ct", "c1", "VIP", "m0", 1_000, ADD, withIdentity("alice")));
        final int markers = 25_000;
        for (int from = 0; from < markers; from += 10_000) {
            final Member[] unknown = new Member[Math.min(10_000, markers - from)];
            for (int i = 0; i < unknown.length; i++) {
                unknown[i] = withIdentity("gone-" + (from + i));
            }
            fx.request(batch("ct", "c1", "VIP", "m-remove-" + from, 2_000, REMOVE, unknown));
        }
        assertThat(fx.membershipStore()).hasSize(markers + 1);

        fx.driver.advanceWallClockTime(Duration.ofMinutes(1));
        final int afterOneSlice = fx.membershipStore().size();
        fx.driver.advanceWallClockTime(Duration.ofMinutes(1));

        assertThat(afterOneSlice).as("one slice of 20,000 entries").isBetween(markers + 1 - 20_000, markers + 2 - 20_000);
        final Map<String, io.cohortsync.internal.MembershipState> left = fx.membershipStore();
        assertThat(left).containsOnlyKeys("ct|c1|obj-1");
        assertThat(left.get("ct|c1|obj-1").getMember()).isTrue();
    }

    /** Message ids are swept a slice a minute too; one past its retention is a new batch again. */
    @Test
    void aMessageIdIsForgottenAfterItsRetention() throws Exception {
        restartWith(Map.of("ingest.message-id-retention", "1d"));
        fx.profile("ct", "obj-1", "alice");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));
        assertThat(fx.reports()).extracting(SyncReport::getDuplicate).containsExactly(false, true);

        fx.driver.advanceWallClockTime(Duration.ofDays(1).plusMinutes(2));
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));

        final SyncReport again = single(fx.reports());
        assertThat(again.getDuplicate()).isFalse();
        assertThat(again.getUnchanged()).isEqualTo(1);
    }

    @Test
    void aCreatedProfileIsIndexedOnceUnderTheKeyResolutionAlreadyWrote() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("New-User"), withDevice("d-77")));

        final List<Profile> created = fx.createdProfiles();
        final String identified = created.get(0).getObjectId();
        assertThat(fx.identityIndex()).containsOnly(
            Map.entry("ct|i|new-user", identified), Map.entry("ct|o|" + identified, identified),
            Map.entry("ct|o|d-77", "d-77"), Map.entry("ct|d|d-77", "d-77"));
        // Resolution wrote ct|i|new-user and ct|o|d-77; the profile table sends only the keys it did not.
        assertThat(fx.indexUpdatesSent()).containsExactlyInAnyOrder("ct|o|" + identified, "ct|d|d-77");
    }

    @Test
    void aProfileCopiedWithAnotherDeploymentsHeaderIsIndexedInFull() {
        final Profile copied = Profile.newBuilder().setAccountId("ct").setObjectId("__csabc").setIdentity("Copied")
            .setCreatedAt(java.time.Instant.EPOCH).setUpdatedAt(java.time.Instant.EPOCH).build();
        fx.profile(copied, new RecordHeaders().add("cohort-sync.indexed-key",
            "another-cohort-sync\nct|i|copied".getBytes(StandardCharsets.UTF_8)));

        assertThat(fx.indexUpdatesSent()).containsExactlyInAnyOrder("ct|o|__csabc", "ct|i|copied");
        assertThat(fx.identityIndex()).containsOnly(
            Map.entry("ct|o|__csabc", "__csabc"), Map.entry("ct|i|copied", "__csabc"));
    }

    @Test
    void theSyncReportCountsEveryMemberOutcome() {
        fx.profile("ct", "obj-1", "alice");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD,
            withIdentity("alice"), withIdentity("carol"), Member.newBuilder().build(), withDevice("dev-55555")));

        final SyncReport report = single(fx.reports());
        assertThat(report.getMembers()).isEqualTo(4);
        assertThat(report.getMatched()).isEqualTo(1);
        assertThat(report.getCreated()).isEqualTo(2);
        assertThat(report.getRejected()).isEqualTo(1);
        assertThat(report.getRejectedByReason()).containsOnly(Map.entry("NO_IDENTIFIER", 1));
        assertThat(report.getAdded()).isEqualTo(3);
        assertThat(List.of(report.getUnmatched(), report.getRemoved(), report.getUnchanged(), report.getStale()))
            .as("unmatched, removed, unchanged, stale").containsOnly(0);
        assertThat(report.getDuplicate()).isFalse();
        final SegmentStats stats = fx.segment("ct", "c1");
        assertThat(stats.getMemberCount()).isEqualTo(3);
        assertThat(stats.getTotalAdded()).isEqualTo(3);
        assertThat(stats.getLastSyncType()).isEqualTo("HOURLY");
        assertThat(stats.getLastSyncAt()).isEqualTo(1_000L);
    }

    @Test
    void eventIdsAreDeterministic() {
        fx.profile("ct", "obj-1", "alice");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));
        final String first = single(fx.partnerSyncEvents()).value.getEventId();
        fx.close();

        fx = assertDoesNotThrow();
        fx.profile("ct", "obj-1", "alice");
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));
        assertThat(single(fx.partnerSyncEvents()).value.getEventId()).isEqualTo(first);
    }

    @Test
    void badRequestsGoToTheDeadLetterTopicAndTheNextGoodOneIsProcessed() {
        fx.rawRequest("ct|c1", "not avro at all".getBytes(StandardCharsets.UTF_8));
        fx.rawRequest("ct|c1", new byte[] {0, 0, 0, 0x7f, 0x7f, 2, 4});
        fx.request(batch("", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "", "VIP", "m2", 1_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m3", 1_000, ADD,
            Collections.nCopies(10_001, withIdentity("x")).toArray(Member[]::new)));
        fx.request(batch("nobody", "c1", "VIP", "m4", 1_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m5", 1_000, ADD, withIdentity("alice")));

        final List<DeadLetter> dead = fx.deadLetters();
        assertThat(dead).extracting(DeadLetter::getReasonCode).containsExactly("DESERIALIZATION_FAILED",
            "UNKNOWN_SCHEMA_ID", "MISSING_ACCOUNT_ID", "MISSING_COHORT_ID", "BATCH_TOO_LARGE", "UNKNOWN_ACCOUNT");
        assertThat(dead.get(0).getSourceTopic()).isEqualTo("cohort-sync.requests");
        assertThat(dead.get(0).getSourceOffset()).isZero();
        assertThat(dead.get(0).getValue().array()).isEqualTo("not avro at all".getBytes(StandardCharsets.UTF_8));
        assertThat(dead.get(0).getMessage()).isNotBlank();
        assertThat(single(fx.partnerSyncEvents()).value.getProperties()).containsEntry("Action", "Added");
    }

    /** A future computedAt would make every real change to its members stale until that date. */
    @Test
    void aRequestComputedBefore1970OrDaysAfterItWasWrittenIsDeadLettered() {
        final long now = System.currentTimeMillis();
        fx.request(batch("ct", "c1", "VIP", "m1", now * 1000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m2", -1, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m3", now + Duration.ofHours(1).toMillis(), ADD, withIdentity("alice")));

        final List<DeadLetter> dead = fx.deadLetters();
        assertThat(dead).extracting(DeadLetter::getReasonCode)
            .containsExactly("COMPUTED_AT_OUT_OF_RANGE", "COMPUTED_AT_OUT_OF_RANGE");
        assertThat(dead.get(0).getMessage()).contains("more than 24 hours after the request was written");
        assertThat(dead.get(1).getMessage()).contains("before 1970");
        assertThat(single(fx.partnerSyncEvents()).value.getProperties()).containsEntry("Action", "Added");
    }

    @Test
    void aRequestKeyedWronglyIsDeadLettered() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("alice")));
        fx.partnerSyncEvents();
        fx.rawRequest(null, fx.topics.requests.valueSerde().serializer().serialize(fx.topics.requests.name(),
            batch("ct", "c1", "VIP", "m2", 1_000, ADD, withIdentity("bob"))));

        assertThat(single(fx.deadLetters()).getReasonCode()).isEqualTo("KEY_MISMATCH");
        assertThat(fx.partnerSyncEvents()).isEmpty();
    }

    @Test
    void aMemberWithoutAnyIdentifierIsRejectedInTheReport() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, member(null, null, Map.of("plan", "gold"))));

        final SyncReport report = single(fx.reports());
        assertThat(report.getRejected()).isEqualTo(1);
        assertThat(report.getRejectedByReason()).containsEntry("NO_IDENTIFIER", 1);
        assertThat(fx.partnerSyncEvents()).isEmpty();
        assertThat(fx.deadLetters()).isEmpty();
    }

    @Test
    void chunksThatArriveBeforeTheirBatchHeaderAreAppliedAndReportedOnceTheHeaderComes() {
        final BatchInfo batch = new BatchInfo("ct", "c1", "VIP", "m1", 1_000L, "ADD", "HOURLY");
        fx.resolvedChunk(new ResolvedChunk(batch, List.of(new ResolvedMember(Resolution.MATCHED, "obj-1", "alice"))));
        fx.resolvedChunk(new ResolvedChunk(batch, List.of(new ResolvedMember(Resolution.CREATED, "obj-2", "bob"),
            new ResolvedMember(Resolution.UNMATCHED, null, null))));

        assertThat(fx.partnerSyncEvents()).extracting(event -> event.key).containsExactly("ct|obj-1", "ct|obj-2");
        assertThat(fx.reports()).as("no report before the header").isEmpty();

        fx.batchHeader(new BatchOpened(batch, false, 4, 3, Map.of("NO_IDENTIFIER", 1)));
        final SyncReport report = single(fx.reports());
        assertThat(report.getMembers()).isEqualTo(4);
        assertThat(List.of(report.getMatched(), report.getCreated(), report.getUnmatched(), report.getRejected(),
            report.getAdded())).containsExactly(1, 1, 1, 1, 2);
        assertThat(fx.segment("ct", "c1").getMemberCount()).isEqualTo(2);
        assertThat(fx.segment("ct", "c1").getBatches()).isEqualTo(1);
        assertThat(fx.partnerSyncEvents()).isEmpty();
    }

    @Test
    void aMemberWithAnIdentifierOverAmplitudesValueLimitIsRejectedInTheReport() {
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("a".repeat(1_025)), withIdentity("bob"),
            withDevice("d".repeat(1_024))));

        final SyncReport report = single(fx.reports());
        assertThat(report.getRejectedByReason()).containsOnly(Map.entry("IDENTIFIER_TOO_LONG", 1));
        assertThat(report.getCreated()).isEqualTo(2);
        assertThat(report.getAdded()).isEqualTo(2);
        assertThat(fx.deadLetters()).isEmpty();
    }

    @Test
    void aRequestWithACohortNameOverAmplitudesValueLimitIsDeadLettered() {
        fx.request(batch("ct", "c1", "n".repeat(1_025), "m1", 1_000, ADD, withIdentity("alice")));
        fx.request(batch("ct", "c1", "VIP", "m2", 1_000, ADD, withIdentity("alice")));

        final DeadLetter dead = single(fx.deadLetters());
        assertThat(dead.getReasonCode()).isEqualTo("VALUE_TOO_LONG");
        assertThat(dead.getMessage()).contains("cohortName is 1025 characters");
        assertThat(single(fx.reports()).getMessageId()).isEqualTo("m2");
    }

    @Test
    void aBatchOfLongIdentifiersIsCutIntoChunksThatFitTheRecordLimit() throws Exception {
        final int maxRecordBytes = 64 * 1024;
        restartWith(Map.of("ingest.max-record-bytes", String.valueOf(maxRecordBytes)));
        final Member[] members = new Member[50];
        for (int i = 0; i < members.length; i++) {
            members[i] = withIdentity(String.format(Locale.ROOT, "%04d", i) + "i".repeat(1_000));
        }
        fx.request(batch("ct", "c1", "VIP", "m1", 1_000, ADD, members));

        final List<byte[]> chunks = fx.lookupChunksSent();
        assertThat(chunks).as("more chunks than lookup groups").hasSizeGreaterThan(4)
            .allSatisfy(chunk -> assertThat(chunk.length).isLessThanOrEqualTo(maxRecordBytes));
        final SyncReport report = single(fx.reports());
        assertThat(report.getCreated()).isEqualTo(50);
        assertThat(report.getAdded()).isEqualTo(50);
        assertThat(fx.partnerSyncEvents()).hasSize(50);
    }

    @Test
    void aDeadLetterForAHugeKeyCopiesNeitherTheKeyNorAllOfAMessageQuotingIt() {
        final String hugeKey = "ct|" + "k".repeat(100_000);
        fx.rawRequest(hugeKey, fx.topics.requests.valueSerde().serializer().serialize(fx.topics.requests.name(),
            batch("ct", "c1", "VIP", "m1", 1_000, ADD, withIdentity("bob"))));

        final DeadLetter dead = single(fx.deadLetters());
        assertThat(dead.getReasonCode()).isEqualTo("KEY_MISMATCH");
        assertThat(dead.getKey()).as("the letter's own record key is the original").isNull();
        assertThat(dead.getValue()).isNotNull();
        assertThat(dead.getMessage()).hasSizeLessThan(2_200).contains("more characters");
    }

    private TopologyFixture assertDoesNotThrow() {
        try {
            return new TopologyFixture();
        } catch (final Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Profile profile(final String accountId, final String objectId, final String identity) {
        return Profile.newBuilder().setAccountId(accountId).setObjectId(objectId).setIdentity(identity)
            .setCreatedAt(java.time.Instant.EPOCH).setUpdatedAt(java.time.Instant.EPOCH).build();
    }
}
