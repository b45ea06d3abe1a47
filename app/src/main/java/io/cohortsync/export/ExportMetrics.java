package io.cohortsync.export;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The exporter's meters for one account (Micrometer's dotted names; Prometheus shows them as
 * {@code cohort_sync_export_..._total} and so on). Counters are cached so the send path does no registry lookups.
 */
final class ExportMetrics {

    static final String EVENTS_SENT = "cohort.sync.export.events.sent";
    static final String EVENTS_REJECTED = "cohort.sync.export.events.rejected";
    static final String EVENTS_RETRIED = "cohort.sync.export.events.retried";
    static final String REQUESTS = "cohort.sync.export.requests";
    static final String BATCH_FILL = "cohort.sync.export.batch.fill";
    static final String BATCH_EVENTS = "cohort.sync.export.batch.events";
    static final String PENDING = "cohort.sync.export.pending.events";
    static final String LAG_SECONDS = "cohort.sync.export.lag.seconds";
    static final String STOPPED = "cohort.sync.export.account.stopped";

    private final MeterRegistry registry;
    private final String account;
    private final Counter sent;
    private final DistributionSummary fill;
    private final DistributionSummary batchEvents;
    private final Map<String, Counter> requests = new ConcurrentHashMap<>();
    private final Map<String, Counter> rejected = new ConcurrentHashMap<>();
    private final Map<String, Counter> retried = new ConcurrentHashMap<>();
    final AtomicLong pending = new AtomicLong();
    final AtomicLong lagMillis = new AtomicLong();
    final AtomicLong stopped = new AtomicLong();

    ExportMetrics(final MeterRegistry registry, final String account) {
        this.registry = registry;
        this.account = account;
        this.sent = Counter.builder(EVENTS_SENT).description("Events Amplitude accepted (or the dry-run file took)")
            .tag("account", account).register(registry);
        this.fill = DistributionSummary.builder(BATCH_FILL)
            .description("How full each request was: the larger of events/limit and bytes/limit (0..1)")
            .tag("account", account).register(registry);
        this.batchEvents = DistributionSummary.builder(BATCH_EVENTS).description("Events per request")
            .tag("account", account).register(registry);
        Gauge.builder(PENDING, pending, AtomicLong::get)
            .description("Events read from the export topic and not yet accepted or dead-lettered")
            .tag("account", account).register(registry);
        Gauge.builder(LAG_SECONDS, lagMillis, value -> value.get() / 1000.0)
            .description("Age of the oldest event not yet accepted (0 when none is waiting)")
            .tag("account", account).register(registry);
        Gauge.builder(STOPPED, stopped, AtomicLong::get)
            .description("1 when the account's export stopped because Amplitude refused its API key")
            .tag("account", account).register(registry);
    }

    void sent(final int events) {
        sent.increment(events);
    }

    void request(final String status, final int events, final double fillRatio) {
        requests.computeIfAbsent(status, s -> Counter.builder(REQUESTS)
            .description("Upload requests by Amplitude's answer (status, timeout, io-error)")
            .tag("account", account).tag("status", s).register(registry)).increment();
        fill.record(fillRatio);
        batchEvents.record(events);
    }

    void rejected(final String reason) {
        rejected.computeIfAbsent(reason, r -> Counter.builder(EVENTS_REJECTED)
            .description("Events dead-lettered instead of exported, by reason code")
            .tag("account", account).tag("reason", r).register(registry)).increment();
    }

    void retried(final String cause, final int events) {
        if (events == 0) {
            return;
        }
        retried.computeIfAbsent(cause, c -> Counter.builder(EVENTS_RETRIED)
            .description("Events sent again, by the answer that made them wait (413, 429, 5xx, timeout, ...)")
            .tag("account", account).tag("cause", c).register(registry)).increment(events);
    }
}
