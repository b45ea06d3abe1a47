package io.cohortsync.metrics;

import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.deadletter.ReasonCode;
import io.cohortsync.membership.PartnerSyncEvents;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * cohort-sync's own counters, next to the Kafka Streams and client metrics in the same registry. Names are
 * Micrometer's dotted form; Prometheus shows them as {@code cohort_sync_..._total}.
 *
 * <p>The counters fed from the topology ({@link #syncReport}, {@link #partnerSyncEvent}, {@link #deadLetter})
 * count committed output records as this instance reads them back; a task that is retried under exactly_once_v2
 * (or moves to another instance before committing its offsets) can count a record twice, so they are approximate
 * and may run slightly high, never low. Each instance counts the partitions it owns: sum over instances.
 *
 * <p>Their labels come from records, which any producer to those topics writes (the partner-sync topic carries
 * every account of the platform), and every label value is a meter kept for the life of the process and printed by
 * every scrape. So a label has only known values: a configured account, the actions Added and Removed, a
 * {@link ReasonCode}; anything else is counted under {@value #OTHER}.
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

    /** The label value of a record whose account, action or reason is not one this service knows. */
    public static final String OTHER = "other";

    private static final Set<String> ACTIONS = Set.of(PartnerSyncEvents.ADDED, PartnerSyncEvents.REMOVED);
    private static final Set<String> REASONS = Arrays.stream(ReasonCode.values()).map(Enum::name)
        .collect(Collectors.toUnmodifiableSet());

    private final MeterRegistry registry;
    private final Set<String> accounts;

    /** {@code accounts}: the configured accounts, the only ones with a label value of their own. */
    public CohortSyncMetrics(final MeterRegistry registry, final Set<String> accounts) {
        this.registry = registry;
        this.accounts = Set.copyOf(accounts);
    }

    /** The service's registry: served in the Prometheus text format by {@code GET /metrics}. */
    public static CohortSyncMetrics prometheus(final Set<String> accounts) {
        return new CohortSyncMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), accounts);
    }

    /** Counts nothing anywhere: for topology tests and tools without a metrics endpoint. */
    public static CohortSyncMetrics noop() {
        return new CohortSyncMetrics(new CompositeMeterRegistry(), Set.of());
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
        final String account = known(report.getAccountId(), accounts);
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
        final String account = known(event.getAccountId(), accounts);
        final String action = known(event.getProperties().get("Action"), ACTIONS);
        Counter.builder(PARTNER_SYNC_EVENTS).description("Partner Sync events by account and action")
            .tag("account", account).tag("action", action).register(registry).increment();
        Counter.builder(DATA_POINTS).description("Partner Sync data points per account (each event is one)")
            .tag("account", account).register(registry).increment();
    }

    public void deadLetter(final DeadLetter letter) {
        Counter.builder(DEAD_LETTERS).description("Records sent to the dead-letter topic, by reason code")
            .tag("reason", known(letter.getReasonCode(), REASONS)).register(registry).increment();
    }

    private static String known(final String value, final Set<String> values) {
        return value != null && values.contains(value) ? value : OTHER;
    }

    private void members(final String account, final String outcome, final int count) {
        Counter.builder(MEMBERS).description("Cohort members by resolution outcome")
            .tag("account", account).tag("outcome", outcome).register(registry).increment(count);
    }
}
