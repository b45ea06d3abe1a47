package io.cohortsync.metrics;

import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.SyncReport;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The counters fed from Kafka take their labels from records: Partner Sync events of any account on the shared
 * partner-sync topic, and whatever is on the sync-reports and dead-letters topics. A label value is a meter kept for
 * the life of the process and printed by every scrape, so a producer that varies them must not grow either.
 */
class MetricLabelBoundsTest {

    private static final int RECORDS = 2_000;

    @Test
    void partnerSyncEventsOfManyAccountsAndActionsKeepAFewSeries() {
        final CohortSyncMetrics metrics = CohortSyncMetrics.prometheus(Set.of("demo"));

        for (int i = 0; i < RECORDS; i++) {
            metrics.partnerSyncEvent(event("account-" + i, "Action-" + i + "-" + "x".repeat(200)));
        }
        metrics.partnerSyncEvent(event("demo", "Added"));
        metrics.partnerSyncEvent(event("demo", "Removed"));

        assertThat(metrics.registry().find(CohortSyncMetrics.PARTNER_SYNC_EVENTS).counters()).hasSizeLessThan(5);
        assertThat(metrics.registry().find(CohortSyncMetrics.DATA_POINTS).counters()).hasSizeLessThan(3);
        assertThat(metrics.scrape()).hasSizeLessThan(20_000)
            .contains("cohort_sync_partner_sync_events_total{account=\"demo\",action=\"Added\"} 1.0")
            .contains("cohort_sync_partner_sync_events_total{account=\"demo\",action=\"Removed\"} 1.0")
            .contains("cohort_sync_partner_sync_events_total{account=\"other\",action=\"other\"} " + RECORDS + ".0")
            .contains("cohort_sync_partner_sync_data_points_total{account=\"other\"} " + RECORDS + ".0");
    }

    @Test
    void syncReportsAndDeadLettersWithUnknownLabelsKeepAFewSeries() {
        final CohortSyncMetrics metrics = CohortSyncMetrics.prometheus(Set.of("demo"));

        for (int i = 0; i < RECORDS; i++) {
            metrics.syncReport(report("account-" + i));
            metrics.deadLetter(letter("REASON_" + i));
        }
        metrics.syncReport(report("demo"));
        metrics.deadLetter(letter("UNKNOWN_ACCOUNT"));

        assertThat(metrics.registry().find(CohortSyncMetrics.BATCHES).counters()).hasSizeLessThan(3);
        assertThat(metrics.registry().find(CohortSyncMetrics.MEMBERS).counters()).hasSizeLessThan(9);
        assertThat(metrics.registry().find(CohortSyncMetrics.DEAD_LETTERS).counters()).hasSizeLessThan(3);
        assertThat(metrics.scrape())
            .contains("cohort_sync_batches_total{account=\"demo\",duplicate=\"false\"} 1.0")
            .contains("cohort_sync_batches_total{account=\"other\",duplicate=\"false\"} " + RECORDS + ".0")
            .contains("cohort_sync_dead_letters_total{reason=\"UNKNOWN_ACCOUNT\"} 1.0")
            .contains("cohort_sync_dead_letters_total{reason=\"other\"} " + RECORDS + ".0");
    }

    @Test
    void theWebhookOutcomeLabelsAreUnchanged() {
        final CohortSyncMetrics metrics = CohortSyncMetrics.prometheus(Set.of("demo"));
        metrics.webhookMembersAccepted("demo", 3);
        assertThat(metrics.scrape()).contains("cohort_sync_webhook_members_accepted_total{account=\"demo\"} 3.0");
    }

    private static PartnerSyncEvent event(final String account, final String action) {
        return PartnerSyncEvent.newBuilder().setEventName("Partner Sync").setAccountId(account).setObjectId("o")
            .setIdentity(null).setTimestamp(Instant.EPOCH).setEventId("e")
            .setProperties(Map.of("Action", action, "Partner Segment ID", "c")).build();
    }

    private static SyncReport report(final String account) {
        return SyncReport.newBuilder().setAccountId(account).setCohortId("c").setMessageId("m")
            .setOperation(Operation.ADD).setComputedAt(Instant.EPOCH).setReportedAt(Instant.EPOCH).build();
    }

    private static DeadLetter letter(final String reason) {
        return DeadLetter.newBuilder().setReasonCode(reason).setMessage("m").setOccurredAt(Instant.EPOCH).build();
    }
}
