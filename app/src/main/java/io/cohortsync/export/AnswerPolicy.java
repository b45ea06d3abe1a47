package io.cohortsync.export;

import io.cohortsync.deadletter.ReasonCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the exporter does with each of Amplitude's answers (README "What the exporter does with each answer"):
 * <ul>
 *   <li>200: the events are done, and their offsets can be committed;</li>
 *   <li>413: the request is halved; a single event still too large is dead-lettered;</li>
 *   <li>400: the listed events are dead-lettered, the rest sent again (those it throttles after the throttle
 *   wait); a 400 naming no event of the request, or a 403, makes its events suspects, isolated in halves;</li>
 *   <li>429: only the throttled users and devices wait; a 429 naming nobody backs the account off;</li>
 *   <li>5xx, a timeout or no answer: the account backs off and sends the same events again, forever;</li>
 *   <li>401 or an invalid key, or too many events in a row refused alone: the account stops, its offsets staying
 *   put.</li>
 * </ul>
 * Owned by the exporter's loop thread: the HTTP client hands each answer back through the loop's completion queue.
 */
final class AnswerPolicy {

    /** The exporter's logger: operators (and tests) follow the exporter's warnings by that name. */
    private static final Logger LOG = LoggerFactory.getLogger(AmplitudeExporter.class);
    /** Events refused alone, in a row, before the refusal is taken for the account's rather than theirs. */
    static final int MAX_REFUSED_ALONE = 10;

    private final ExporterSettings settings;
    private final Map<String, AccountExport> accounts;
    private final Backpressure backpressure;
    private final DeadLetterWriter deadLetters;
    private final WarningThrottle warnings;

    AnswerPolicy(final ExporterSettings settings, final Map<String, AccountExport> accounts,
                 final Backpressure backpressure, final DeadLetterWriter deadLetters, final WarningThrottle warnings) {
        this.settings = settings;
        this.accounts = accounts;
        this.backpressure = backpressure;
        this.deadLetters = deadLetters;
        this.warnings = warnings;
    }

    /** Applies Amplitude's answer to a request; called on the loop thread once the answer is back. */
    void apply(final Batch batch, final AmplitudeResponse response) {
        final long now = System.nanoTime();
        final AccountExport account = batch.account;
        account.metrics.request(response.statusLabel(), batch.events.size(), batch.fill());
        final List<PendingEvent> live = stillOurs(batch);
        if (response.accepted()) {
            onAccepted(batch, live);
        } else if (account.stopped) {
            // Another request stopped the account meanwhile: its queues no longer send, so these events must not
            // go back to them.
            park(account, live);
        } else if (response.authenticationFailed()) {
            stop(account, response, live, "Its API key (accounts." + account.accountId + ".export.api-key) is invalid "
                + "or not allowed");
        } else if (response.status() == 413) {
            onTooLarge(batch, live, response);
        } else if (response.status() == 400 || response.status() == 403) {
            onRejected(batch, response, now);
        } else if (response.status() == 429) {
            onThrottled(batch, response, now);
        } else {
            onFailed(account, live, response, now);
        }
        account.release(batch, now);
    }

    /** The request's events whose partition is still ours; the others leave the account's buffer. */
    private List<PendingEvent> stillOurs(final Batch batch) {
        final AccountExport account = batch.account;
        final List<PendingEvent> live = new ArrayList<>(batch.events.size());
        for (final PendingEvent event : batch.events) {
            if (event.abandoned()) {
                account.finished(event);
                backpressure.release(event);
            } else {
                live.add(event);
            }
        }
        return live;
    }

    private void onAccepted(final Batch batch, final List<PendingEvent> live) {
        live.forEach(this::accepted);
        batch.account.metrics.sent(live.size());
        batch.account.succeeded(batch);
    }

    private void accepted(final PendingEvent event) {
        accountOf(event).finished(event);
        backpressure.release(event);
        event.finish();
    }

    private AccountExport accountOf(final PendingEvent event) {
        return accounts.get(event.event.getAccountId());
    }

    private void onTooLarge(final Batch batch, final List<PendingEvent> live, final AmplitudeResponse response) {
        final AccountExport account = batch.account;
        if (batch.events.size() > 1) {
            account.shrink(batch);
            account.requeue(live);
            account.metrics.retried("413", live.size());
            return;
        }
        live.forEach(event -> rejectWithAmplitudeReason(event, ReasonCode.EVENT_TOO_LARGE,
            "Amplitude answered 413 '" + account.redact(response.error()) + "' to a request with this event alone"));
    }

    /**
     * Dead-letters the events a 400 (or a 403 with a 400's body) lists; the rest go again, after the throttle wait if
     * it throttles them.
     */
    private void onRejected(final Batch batch, final AmplitudeResponse response, final long now) {
        final AccountExport account = batch.account;
        final Map<Integer, String> listed = response.rejectedEvents();
        if (listed.keySet().stream().noneMatch(index -> index >= 0 && index < batch.events.size())) {
            // Naming only indexes this request does not have says no more than naming none: resending it as it is
            // would be refused the same way, at once, for ever.
            onRefusedWhole(batch, response);
            return;
        }
        final Throttling throttling = throttling(response, now);
        final List<PendingEvent> rest = new ArrayList<>();
        for (int i = 0; i < batch.events.size(); i++) {
            final PendingEvent event = batch.events.get(i);
            final String reason = listed.get(i);
            if (event.abandoned()) {
                continue;
            }
            if (reason != null) {
                rejectWithAmplitudeReason(event, ReasonCode.AMPLITUDE_REJECTED,
                    "Amplitude answered " + response.statusLabel() + " " + account.redact(reason));
            } else {
                throttle(account, event, throttling.waitUntil(i, event.event));
                rest.add(event);
            }
        }
        account.requeue(rest);
        account.metrics.retried(response.statusLabel(), rest.size());
    }

    /**
     * A 400 that names no event of the request, or a 403 (Amplitude's firewall, refusing a header, body or URI
     * value): the request's events become suspects, sent again only among themselves in requests half its size, and
     * so on until the refused event is alone, which is then dead-lettered; the account's other events flow meanwhile.
     * After {@value #MAX_REFUSED_ALONE} events in a row refused alone with none accepted, the next refusal is taken
     * for the requests' rather than an event's (a wrong {@code base-url} path, a blocked region): the account stops
     * as for a bad key.
     */
    private void onRefusedWhole(final Batch batch, final AmplitudeResponse response) {
        final AccountExport account = batch.account;
        final List<PendingEvent> live = batch.events.stream().filter(e -> !e.abandoned()).toList();
        if (batch.events.size() > 1) {
            warn(account, response, "sending its events again in halves, among themselves, to isolate the one it "
                + "refuses");
            account.suspect(live, batch.events.size() / 2);
            account.metrics.retried(response.statusLabel(), live.size());
        } else if (account.refusedAlone() < MAX_REFUSED_ALONE) {
            live.forEach(event -> rejectWithAmplitudeReason(event, ReasonCode.AMPLITUDE_REJECTED,
                "Amplitude answered " + response.statusLabel() + " '" + account.redact(response.error())
                    + "' to a request with this event alone"));
        } else {
            stop(account, response, live, MAX_REFUSED_ALONE + " events in a row were refused, each sent alone, and "
                + "none accepted: Amplitude refuses the requests, not their events. Check accounts."
                + account.accountId + ".export.base-url and whether Amplitude blocks this network or region");
        }
    }

    private void onThrottled(final Batch batch, final AmplitudeResponse response, final long now) {
        final AccountExport account = batch.account;
        final Throttling throttling = throttling(response, now);
        final List<PendingEvent> live = new ArrayList<>();
        boolean anyThrottled = false;
        for (int i = 0; i < batch.events.size(); i++) {
            final PendingEvent event = batch.events.get(i);
            if (event.abandoned()) {
                continue;
            }
            live.add(event);
            anyThrottled |= throttle(account, event, throttling.waitUntil(i, event.event));
        }
        account.requeue(live);
        account.metrics.retried("429", live.size());
        if (!anyThrottled) {
            // A 429 that names nobody: slow the whole account down instead.
            warn(account, response, "no throttled id listed; backing off");
            account.backOff(now);
        }
    }

    /** A 5xx, a timeout, no answer, or any other status: the account backs off and sends the same events again. */
    private void onFailed(final AccountExport account, final List<PendingEvent> live,
                          final AmplitudeResponse response, final long now) {
        warn(account, response, "retrying with backoff");
        account.requeue(live);
        account.metrics.retried(response.statusLabel(), live.size());
        account.backOff(now);
    }

    /** Makes the event's user wait until {@code until}, unless that is {@link AccountExport#NONE}; says whether. */
    private static boolean throttle(final AccountExport account, final PendingEvent event, final long until) {
        if (until == AccountExport.NONE) {
            return false;
        }
        account.throttle(event.queue, until);
        return true;
    }

    /** Whom the answer throttles, and until when: {@code export.throttle-wait} / {@code export.daily-quota-wait}. */
    private Throttling throttling(final AmplitudeResponse response, final long now) {
        return new Throttling(response, now + settings.throttleWait().toNanos(),
            now + settings.dailyQuotaWait().toNanos());
    }

    private void stop(final AccountExport account, final AmplitudeResponse response, final List<PendingEvent> live,
                      final String why) {
        if (!account.stopped) {
            LOG.error("Amplitude export STOPPED for account '{}': Amplitude answered {} '{}' at {}. {}. Its offsets "
                    + "stay where they are and other accounts keep exporting; fix this and restart cohort-sync to "
                    + "resume.", account.accountId, response.statusLabel(), account.redact(response.error()),
                account.url, why);
            account.metrics.stopped.set(1);
        }
        park(account, live);
        park(account, account.stop());
    }

    /** Events of a stopped account leave its buffer, and no commit of their partitions may pass them. */
    private void park(final AccountExport account, final List<PendingEvent> events) {
        for (final PendingEvent event : events) {
            account.finished(event);
            event.partition.park(event.offset);
            backpressure.release(event);
            event.finish();
        }
    }

    private void rejectWithAmplitudeReason(final PendingEvent event, final ReasonCode reason, final String message) {
        accountOf(event).finished(event);
        backpressure.release(event);
        event.queue = null;
        deadLetters.write(event, reason, message);
    }

    private void warn(final AccountExport account, final AmplitudeResponse response, final String action) {
        warnings.warn(account.accountId + "|" + response.statusLabel(), "Amplitude answered " + response.statusLabel()
            + " '" + account.redact(response.error()) + "' for account '" + account.accountId + "'; " + action
            + " (logged at most every 10 s per status)");
    }
}
