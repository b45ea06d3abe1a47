package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.SyncType;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.cohortsync.export.ExportTopologyFixture.event;
import static io.cohortsync.export.ExportTopologyFixture.partnerSyncEvent;
import static org.assertj.core.api.Assertions.assertThat;

/** The export sub-topology in the service's real topology: selection, id mapping, insert_id and Amplitude's id rules. */
class ExportTopologyTest {

    private static final String ACCOUNTS = """
        accounts:
          all:
            export:
              events: ALL
          sel:
            export:
              events: SELECTED
              selected: ["Notification Clicked", "Partner Sync"]
          eng:
            export:
              events: ENGAGEMENT
          mapped:
            export:
              user-id: [email, identity]
              device-id: property.device
          devonly:
            export:
              user-id: identity
              device-id: device_id
              min-id-length: 3
          strict:
            export:
              user-id: identity
              device-id: device_id
          plain:
            import:
              policy: CREATE_UNMATCHED
        """;
    private static final long T = 1_700_000_000_000L;

    private ExportTopologyFixture fx;

    @BeforeEach
    void start() throws Exception {
        fx = new ExportTopologyFixture(ACCOUNTS);
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    @Test
    void allExportsEveryEventPartnerSyncIncluded() {
        fx.engagement(event("all", "o1", "user-one", null, "Charged", T, Map.of()));
        fx.engagement(event("all", "o1", "user-one", null, "Notification Sent", T + 1, Map.of()));
        fx.partnerSync(partnerSyncEvent("all", "o1", "user-one", "ps-1"));

        assertThat(fx.exported()).extracting(kv -> kv.value.getEventType())
            .containsExactly("Charged", "Notification Sent", "Partner Sync");
    }

    @Test
    void selectedExportsOnlyTheListedNames() {
        fx.engagement(event("sel", "o1", "user-one", null, "Notification Clicked", T, Map.of()));
        fx.engagement(event("sel", "o1", "user-one", null, "Notification Sent", T, Map.of()));
        fx.engagement(event("sel", "o1", "user-one", null, "notification clicked", T, Map.of()));
        fx.partnerSync(partnerSyncEvent("sel", "o1", "user-one", "ps-1"));

        assertThat(fx.exported()).extracting(kv -> kv.value.getEventType())
            .containsExactly("Notification Clicked", "Partner Sync");
    }

    @Test
    void engagementExportsExactlyTheSeedsTableAndNotPartnerSync() {
        final List<String> names = new ArrayList<>(EventSelection.ENGAGEMENT_EVENTS);
        names.addAll(List.of("Charged", "App Launched", "Partner Sync"));
        names.forEach(name -> fx.engagement(event("eng", "o1", "user-one", null, name, T, Map.of())));
        fx.partnerSync(partnerSyncEvent("eng", "o1", "user-one", "ps-1"));

        assertThat(fx.exported()).extracting(kv -> kv.value.getEventType())
            .containsExactlyElementsOf(EventSelection.ENGAGEMENT_EVENTS);
        assertThat(EventSelection.ENGAGEMENT_EVENTS).hasSize(20).contains("Notification Sent", "Notification Viewed",
            "Notification Clicked", "Push Impressions", "Notification Replied", "App Uninstalled", "UTM Visited");
    }

    @Test
    void accountsWithoutExportSettingsAndUnknownAccountsExportNothing() {
        fx.engagement(event("plain", "o1", "user-one", null, "Notification Sent", T, Map.of()));
        fx.engagement(event("nobody", "o1", "user-one", null, "Notification Sent", T, Map.of()));
        fx.partnerSync(partnerSyncEvent("plain", "o1", "user-one", "ps-1"));

        assertThat(fx.exported()).isEmpty();
        assertThat(fx.deadLetters()).isEmpty();
    }

    @Test
    void mapsIdsTimePropertiesAndKeysByAmplitudeUser() {
        fx.engagement(event("all", "obj-1", "user-one", "device-1", "Notification Sent", T,
            Map.of("Campaign", "spring")));
        fx.engagement(event("all", "obj-2", null, "device-2", "Notification Sent", T + 5, Map.of()));
        fx.engagement(event("all", "obj-3", null, null, "Notification Sent", T + 6, Map.of()));

        final List<KeyValue<String, AmplitudeEvent>> out = fx.exported();
        assertThat(out).extracting(kv -> kv.key).containsExactly("all|user-one", "all|device-2", "all|obj-3");
        final AmplitudeEvent first = out.get(0).value;
        assertThat(first.getAccountId()).isEqualTo("all");
        assertThat(first.getUserId()).isEqualTo("user-one");
        assertThat(first.getDeviceId()).isEqualTo("device-1");
        assertThat(first.getTime()).isEqualTo(T);
        assertThat(first.getEventProperties()).containsExactlyEntriesOf(Map.of("Campaign", "spring"));
        assertThat(out.get(1).value.getUserId()).isNull();
        assertThat(out.get(1).value.getDeviceId()).isEqualTo("device-2");
        assertThat(out.get(2).value.getDeviceId()).as("device-id falls back to the CleverTap ID").isEqualTo("obj-3");
    }

    @Test
    void insertIdIsTheSourceEventIdElseDeterministicPerSourceEvent() {
        fx.partnerSync(partnerSyncEvent("all", "o1", "user-one", "ps-event-id-1"));
        final io.cohortsync.avro.EngagementEvent withId = event("all", "o1", "user-one", null, "Charged", T, Map.of());
        withId.setEventId("platform-event-7");
        fx.engagement(withId);
        fx.engagement(event("all", "o1", "user-one", null, "Charged", T, Map.of("Amount", "5")));
        fx.engagement(event("all", "o1", "user-one", null, "Charged", T, Map.of("Amount", "5")));
        fx.engagement(event("all", "o1", "user-one", null, "Charged", T, Map.of("Amount", "6")));

        final List<String> insertIds = fx.exported().stream().map(kv -> kv.value.getInsertId()).toList();
        assertThat(insertIds.get(0)).isEqualTo("ps-event-id-1");
        assertThat(insertIds.get(1)).isEqualTo("platform-event-7");
        assertThat(insertIds.get(2)).as("the same source event again").isEqualTo(insertIds.get(3));
        assertThat(insertIds.get(4)).isNotEqualTo(insertIds.get(2));
    }

    @Test
    void mappingsCanReadTheProfileAndEventProperties() {
        fx.profile("mapped", "o1", "id-one", "one@example.com", "profile-device-1");
        fx.engagement(event("mapped", "o1", null, null, "Charged", T, Map.of("device", "prop-device-1")));
        fx.engagement(event("mapped", "o2", "identity-two", null, "Charged", T, Map.of("device", "prop-device-2")));
        fx.profile("all", "o9", "id-nine", null, "profile-device-9");
        fx.partnerSync(partnerSyncEvent("all", "o9", "id-nine", "ps-9"));

        final List<AmplitudeEvent> out = fx.exported().stream().map(kv -> kv.value).toList();
        assertThat(out.get(0).getUserId()).as("email from the profile table").isEqualTo("one@example.com");
        assertThat(out.get(0).getDeviceId()).isEqualTo("prop-device-1");
        assertThat(out.get(1).getUserId()).as("no profile: the next candidate").isEqualTo("identity-two");
        assertThat(out.get(2).getDeviceId()).as("Partner Sync: the profile's device").isEqualTo("profile-device-9");
    }

    @Test
    void partnerSyncEventsOfTheImportAreExported() {
        fx.request(CohortSyncRequest.newBuilder().setAccountId("all").setCohortId("c1").setCohortName("Cart Drop off")
            .setMessageId("m1").setComputedAt(Instant.ofEpochMilli(T)).setSyncType(SyncType.HOURLY)
            .setOperation(Operation.ADD)
            .setMembers(List.of(Member.newBuilder().setUserProperties(Map.of("CleverTap_Identity", "Clevertap1"))
                .build()))
            .build());

        final List<AmplitudeEvent> out = fx.exported().stream().map(kv -> kv.value).toList();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).getEventType()).isEqualTo("Partner Sync");
        assertThat(out.get(0).getUserId()).isEqualTo("Clevertap1");
        assertThat(out.get(0).getEventProperties()).containsEntry("Action", "Added")
            .containsEntry("Partner Segment Name", "Cart Drop off");
    }

    @Test
    void idsOnAmplitudesInvalidListAreDeadLetteredCaseInsensitively() {
        final List<String> invalid = List.of("anonymous", "nil", "none", "null", "NULL", "n/a", "N/A", "na",
            "undefined", "Unknown", "00000000-0000-0000-0000-000000000000", "{}", "lmy47d", "LMY47D", "0", "-1");
        invalid.forEach(id -> {
            fx.engagement(event("devonly", "obj-1", id, "device-1", "Charged", T, Map.of()));
            fx.engagement(event("devonly", "obj-2", "user-two", id, "Charged", T, Map.of()));
        });
        fx.engagement(event("devonly", "obj-3", "nullable", "device-3", "Charged", T, Map.of()));

        assertThat(fx.exported()).extracting(kv -> kv.value.getUserId()).containsExactly("nullable");
        final List<DeadLetter> dead = fx.deadLetters();
        assertThat(dead).hasSize(2 * invalid.size())
            .allSatisfy(letter -> assertThat(letter.getReasonCode()).isEqualTo("INVALID_AMPLITUDE_ID"));
        assertThat(dead.get(0).getMessage()).contains("user_id 'anonymous'");
        assertThat(dead.get(1).getMessage()).contains("device_id 'anonymous'");
    }

    @Test
    void idsShorterThanMinIdLengthAreDroppedAndAnEventLeftWithoutIdIsDeadLettered() {
        fx.engagement(event("strict", "obj-1", "abcd", null, "Charged", T, Map.of()));
        fx.engagement(event("strict", "obj-2", "abcd", "device-2", "Charged", T, Map.of()));
        fx.engagement(event("strict", "obj-3", "abcde", null, "Charged", T, Map.of()));
        fx.engagement(event("devonly", "obj-4", "ab", null, "Charged", T, Map.of()));
        fx.engagement(event("devonly", "obj-5", "abc", null, "Charged", T, Map.of()));
        fx.engagement(event("all", "ab", "abcd", null, "Charged", T, Map.of()));

        final List<AmplitudeEvent> out = fx.exported().stream().map(kv -> kv.value).toList();
        assertThat(out).extracting(AmplitudeEvent::getUserId).containsExactly(null, "abcde", "abc");
        assertThat(out.get(0).getDeviceId()).as("Amplitude drops a short id; the device remains").isEqualTo("device-2");
        assertThat(fx.deadLetters()).extracting(DeadLetter::getReasonCode)
            .containsExactly("AMPLITUDE_ID_TOO_SHORT", "AMPLITUDE_ID_TOO_SHORT", "AMPLITUDE_ID_TOO_SHORT");
    }

    @Test
    void eventsWithoutAnyIdOrWithStringsOver1024CharactersAreDeadLettered() {
        final String long1025 = "x".repeat(1025);
        fx.engagement(event("devonly", "o1", null, null, "Charged", T, Map.of()));
        fx.engagement(event("all", "o2", long1025, null, "Charged", T, Map.of()));
        fx.engagement(event("all", "o3", "user-three", null, "Charged", T, Map.of("Note", long1025)));
        fx.engagement(event("all", "o4", "user-four", null, "x".repeat(1025), T, Map.of()));
        fx.engagement(event("all", "o5", "user-five", null, "Charged", T, Map.of("Note", "x".repeat(1024))));

        assertThat(fx.exported()).extracting(kv -> kv.value.getUserId()).containsExactly("user-five");
        final List<DeadLetter> dead = fx.deadLetters();
        assertThat(dead).extracting(DeadLetter::getReasonCode)
            .containsExactly("NO_AMPLITUDE_ID", "VALUE_TOO_LONG", "VALUE_TOO_LONG", "VALUE_TOO_LONG");
        assertThat(dead.get(0).getSourceTopic()).isEqualTo(fx.topics.engagementEvents.name());
        assertThat(dead.get(0).getValue()).as("the original bytes").isNotNull();
    }

    @Test
    void aNamelessEventIsDeadLetteredWhateverTheAccountSelects() {
        fx.engagement(event("eng", "o1", "user-one", null, "", T, Map.of()));
        fx.engagement(event("sel", "o2", "user-two", null, " ", T, Map.of()));
        fx.engagement(event("eng", "o3", "user-three", null, "Notification Sent", T, Map.of()));

        assertThat(fx.deadLetters()).extracting(DeadLetter::getReasonCode)
            .containsExactly("MISSING_EVENT_NAME", "MISSING_EVENT_NAME");
        assertThat(fx.exported()).extracting(kv -> kv.value.getUserId()).containsExactly("user-three");
    }

    @Test
    void aBadPartnerSyncRecordOfAnExportingAccountMakesOneDeadLetterAndIsNotApplied() {
        // The export and the profile-segments stage both read partner-sync: only one may write the letter.
        fx.rawPartnerSync("all|o1", "not avro".getBytes(StandardCharsets.UTF_8));
        fx.partnerSyncWithKey("all|o1", partnerSyncEvent("all", "", "user-one", "ps-blank"));
        fx.partnerSyncWithKey("all|o2", partnerSyncEvent("all", "o1", "user-one", "ps-miskeyed"));
        fx.partnerSync(io.cohortsync.avro.PartnerSyncEvent.newBuilder(partnerSyncEvent("all", "o3", "user-three",
            "ps-no-segment")).setProperties(Map.of("Action", "Added")).build());
        fx.partnerSync(partnerSyncEvent("all", "o1", "user-one", "ps-1"));

        final List<DeadLetter> dead = fx.deadLetters();
        assertThat(dead).extracting(DeadLetter::getReasonCode)
            .containsExactly("DESERIALIZATION_FAILED", "MISSING_OBJECT_ID", "KEY_MISMATCH", "MISSING_COHORT_ID");
        assertThat(dead).allSatisfy(letter ->
            assertThat(letter.getSourceTopic()).isEqualTo(fx.topics.partnerSync.name()));
        assertThat(fx.exported()).extracting(kv -> kv.value.getInsertId()).containsExactly("ps-1");
    }

    @Test
    void undecodableOrMiskeyedEventsAreDeadLetteredAndTheNextOneFlows() {
        fx.rawEngagement("all|o1", "not avro".getBytes(StandardCharsets.UTF_8));
        fx.engagementWithKey("all|someone-else", event("all", "o1", "user-one", null, "Charged", T, Map.of()));
        fx.engagement(event("all", "o1", "user-one", null, "Charged", T, Map.of()));

        assertThat(fx.deadLetters()).extracting(DeadLetter::getReasonCode)
            .containsExactly("DESERIALIZATION_FAILED", "KEY_MISMATCH");
        assertThat(fx.exported()).hasSize(1);
    }
}
