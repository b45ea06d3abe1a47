package io.cohortsync.topology;

import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncReport;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.cohortsync.avro.Operation.ADD;
import static io.cohortsync.avro.Operation.REMOVE;
import static io.cohortsync.topology.TopologyFixture.batch;
import static io.cohortsync.topology.TopologyFixture.single;
import static io.cohortsync.topology.TopologyFixture.withIdentity;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * An account's configuration changed between two runs on the same state (README, "Changing the configuration of a
 * running deployment"). Lookup keys are computed from the settings of the run that ingests a batch; nothing already
 * in the state is rewritten, so a changed identifier setting finds other profiles from then on.
 */
class ConfigurationChangeTest extends TopologyDriverTest {

    private static final String DEVICE_ANONYMOUS = """
        accounts:
          ct:
            import:
              anonymous-id: device_id
        """;
    private static final String AMPLITUDE_ANONYMOUS = """
        accounts:
          ct:
            import:
              anonymous-id: amplitude_id
        """;
    private static final String IDENTITY_FROM_PROPERTY = """
        accounts:
          ct:
            import:
              identity: user_properties.CleverTap_Identity
        """;
    private static final String IDENTITY_FROM_USER_ID = """
        accounts:
          ct:
            import:
              identity: user_id
        """;
    private static final String MATCH_ONLY = """
        accounts:
          ct:
            import:
              policy: MATCH_ONLY
              identifiers: [user_properties.CleverTap_Identity, device_id]
        """;
    private static final String ANOTHER_ACCOUNT_ONLY = """
        accounts:
          ct2:
            import:
              policy: CREATE_UNMATCHED
        """;

    @Test
    void anotherAnonymousIdCreatesASecondProfileAndTheFirstStaysAMemberThatNoRemoveFinds() throws Exception {
        restartWith(Map.of(), DEVICE_ANONYMOUS);
        final Member anonymous = Member.newBuilder().setDeviceId("dev-1").setAmplitudeId("9001").build();
        fx.request(batch("ct", "c1", "Cohort", "m1", 1_000, ADD, anonymous));
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key).containsExactly("ct|dev-1");

        restartOnTheSameStateWith(Map.of(), AMPLITUDE_ANONYMOUS);
        fx.request(batch("ct", "c1", "Cohort", "m2", 2_000, ADD, anonymous));
        fx.request(batch("ct", "c1", "Cohort", "m3", 3_000, REMOVE, anonymous));

        assertThat(fx.createdProfiles()).extracting(Profile::getObjectId).containsExactly("9001");
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key + " " + e.value.getProperties().get("Action"))
            .containsExactly("ct|9001 Added", "ct|9001 Removed");
        assertThat(fx.segment("ct", "c1").getMemberCount()).as("dev-1 is still a member").isEqualTo(1);
    }

    @Test
    void anotherIdentityFieldMatchesByThatFieldsValueAndCreatesAProfileWhereItDiffers() throws Exception {
        restartWith(Map.of(), IDENTITY_FROM_PROPERTY);
        fx.profile("ct", "obj-1", "jane@example.com");
        final Member jane = Member.newBuilder().setUserId("amp-77")
            .setUserProperties(Map.of("CleverTap_Identity", "Jane@Example.com")).build();
        fx.request(batch("ct", "c1", "Cohort", "m1", 1_000, ADD, jane));
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key).containsExactly("ct|obj-1");

        restartOnTheSameStateWith(Map.of(), IDENTITY_FROM_USER_ID);
        fx.request(batch("ct", "c2", "Other cohort", "m2", 2_000, ADD, jane));

        final Profile created = single(fx.createdProfiles());
        assertThat(created.getIdentity()).isEqualTo("amp-77");
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key).containsExactly("ct|" + created.getObjectId());
    }

    @Test
    void matchOnlyAfterCreateUnmatchedFindsTheProfilesCreatedBeforeAndCreatesNoMore() throws Exception {
        restartWith(Map.of(), IDENTITY_FROM_PROPERTY);
        fx.request(batch("ct", "c1", "Cohort", "m1", 1_000, ADD, withIdentity("New-1")));
        final Profile created = single(fx.createdProfiles());

        restartOnTheSameStateWith(Map.of(), MATCH_ONLY);
        fx.request(batch("ct", "c1", "Cohort", "m2", 2_000, ADD, withIdentity("never-seen")));
        fx.request(batch("ct", "c1", "Cohort", "m3", 3_000, REMOVE, withIdentity("new-1")));

        assertThat(fx.createdProfiles()).isEmpty();
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key + " " + e.value.getProperties().get("Action"))
            .containsExactly("ct|" + created.getObjectId() + " Removed");
        assertThat(fx.reports()).extracting(SyncReport::getMatched, SyncReport::getUnmatched, SyncReport::getCreated)
            .containsExactly(tuple(0, 1, 0), tuple(1, 0, 0));
    }

    @Test
    void aRemovedAccountsBatchesAreDeadLetteredAndWhenItIsAddedAgainItsStateIsBack() throws Exception {
        restartWith(Map.of(), IDENTITY_FROM_PROPERTY);
        fx.request(batch("ct", "c1", "Cohort", "m1", 1_000, ADD, withIdentity("jane")));
        final String jane = single(fx.createdProfiles()).getObjectId();

        restartOnTheSameStateWith(Map.of(), ANOTHER_ACCOUNT_ONLY);
        fx.request(batch("ct", "c1", "Cohort", "m2", 2_000, REMOVE, withIdentity("jane")));
        assertThat(fx.deadLetters()).extracting(DeadLetter::getReasonCode).containsExactly("UNKNOWN_ACCOUNT");
        assertThat(fx.segment("ct", "c1").getMemberCount()).as("kept, though not served").isEqualTo(1);

        restartOnTheSameStateWith(Map.of(), IDENTITY_FROM_PROPERTY);
        fx.request(batch("ct", "c1", "Cohort", "m1", 1_000, ADD, withIdentity("jane")));
        fx.request(batch("ct", "c1", "Cohort", "m3", 3_000, REMOVE, withIdentity("jane")));

        assertThat(fx.reports()).extracting(SyncReport::getDuplicate).containsExactly(true, false);
        assertThat(fx.partnerSyncEvents()).extracting(e -> e.key + " " + e.value.getProperties().get("Action"))
            .containsExactly("ct|" + jane + " Removed");
        assertThat(fx.createdProfiles()).isEmpty();
    }
}
