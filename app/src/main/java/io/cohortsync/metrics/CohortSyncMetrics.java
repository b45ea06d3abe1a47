package io.cohortsync.metrics;

import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.SyncReport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;

/**
 * cohort-sync's own counters, next to the Kafka Streams and client metrics in the same registry. Names are
 * Micrometer's dotted form; Prometheus shows them as {@code cohort_sync_..._total}.
 *
 * <p>The counters fed from the topology ({@link #syncReport}, {@link #partnerSyncEvent}, {@link #deadLetter})
 * count committed output records as this instance reads them back; a task that is retried under exactly_once_v2
 * (or moves to another instance before committing its offsets) can count a record twice, so they are approximate
 * and may run slightly high, never low. Each instance counts the partitions it owns: sum over instances.
 */
public final class CohortSyncMetrics {

    public static final String WEBHOOK_REQUESTS = "cohort.sync.webhook.requests";
    public static final String WEBHOOK_MEMBERS = "cohort.sync.webhook.members.accepted";
    public static final String WEBHOOK_LATENCY = "cohort.sync.webhook.response";
    public static final String MEMBERS = "cohort.sync.members";
    public static final String BATCHES = "cohort.sync.batches";
    public static final String PARTNER_SYNC_EVENTS = "cohort.sync.partner.sync.events";
    public static final String DATA_POINTS = "cohort.sync.partner.sync.data.points";
    public static final String DEAD_LETTERS = "cohort.sync.dead.letters";

    private final MeterRegistry registry;

    public CohortSyncMetrics(final MeterRegistry registry) {
        this.registry = registry;
    }

    /** The service's registry: served in the Prometheus text format by {@code GET /metrics}. */
    public static CohortSyncMetrics prometheus() {
        return new CohortSyncMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    /** Counts nothing anywhere: for topology tests and tools without a metrics endpoint. */
    public static CohortSyncMetrics noop() {
        return new CohortSyncMetrics(new CompositeMeterRegistry());
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Every meter in the Prometheus text format; empty for a registry that is not Prometheus'. */
    public String scrape() {
        return registry instanceof PrometheusMeterRegistry prometheus ? prometheus.scrape() : "";
    }

    /** One webhook call and how it ended ({@link WebhookOutcome}), with its response time. */
    public void webhookRequest(final WebhookOutcome outcome, final Duration elapsed) {
        Counter.builder(WEBHOOK_REQUESTS).description("Amplitude webhook calls by outcome")
            .tag("outcome", outcome.label()).register(registry).increment();
        Timer.builder(WEBHOOK_LATENCY).description("Time to answer an Amplitude webhook call")
            .tag("outcome", outcome.label()).register(registry).record(elapsed);
    }

    public void webhookMembersAccepted(final String accountId, final int members) {
        Counter.builder(WEBHOOK_MEMBERS).description("Cohort members accepted by the webhook (acknowledged by Kafka)")
            .tag("account", accountId).register(registry).increment(members);
    }

    /** A finished batch: every member counted once as matched, created, unmatched or rejected. */
    public void syncReport(final SyncReport report) {
        final String account = report.getAccountId();
        Counter.builder(BATCHES).description("Cohort sync batches finished")
            .tag("account", account).tag("duplicate", String.valueOf(report.getDuplicate()))
            .register(registry).increment();
        members(account, "matched", report.getMatched());
        members(account, "created", report.getCreated());
        members(account, "unmatched", report.getUnmatched());
        members(account, "rejected", report.getRejected());
    }

    /** One Partner Sync event: by action, and one billable data point for its account. */
    public void partnerSyncEvent(final PartnerSyncEvent event) {
        final String action = event.getProperties().getOrDefault("Action", "unknown");
        Counter.builder(PARTNER_SYNC_EVENTS).description("Partner Sync events by account and action")
            .tag("account", event.getAccountId()).tag("action", action).register(registry).increment();
        Counter.builder(DATA_POINTS).description("Partner Sync data points per account (each event is one)")
            .tag("account", event.getAccountId()).register(registry).increment();
    }

    public void deadLetter(final DeadLetter letter) {
        Counter.builder(DEAD_LETTERS).description("Records sent to the dead-letter topic, by reason code")
            .tag("reason", letter.getReasonCode()).register(registry).increment();
    }

    private void members(final String account, final String outcome, final int count) {
        Counter.builder(MEMBERS).description("Cohort members by resolution outcome")
            .tag("account", account).tag("outcome", outcome).register(registry).increment(count);
    }
}
