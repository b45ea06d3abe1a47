package io.cohortsync.export;

import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * One account's export state, owned by the exporter's thread: its users' queues, which users may be sent now, the
 * requests in flight, the backoff after failures, the request limits (halved by a 413, won back a step per success),
 * and the events under suspicion since Amplitude refused a request of theirs without naming the event at fault.
 */
final class AccountExport {

    /** No time: not backing off, not lingering, not throttled. */
    static final long NONE = Long.MIN_VALUE;
    /** Successes it takes to win back, after a 413, the whole room the endpoint allows. */
    private static final int LIMIT_RECOVERY_STEPS = 16;

    final String accountId;
    final ExportSettings settings;
    final URI url;
    final EventJson.Envelope envelope;
    final AmplitudeSink sink;
    final ExportMetrics metrics;
    private final ExporterSettings exporter;
    private final int idRate;
    private final Map<String, UserQueue> queues = new HashMap<>();
    private final LinkedHashSet<UserQueue> ready = new LinkedHashSet<>();
    /** Ready users whose next events are suspects: they go only among themselves. */
    private final LinkedHashSet<UserQueue> readySuspects = new LinkedHashSet<>();
    /** Events read and not yet accepted, dead-lettered, parked or dropped, in read order: finished ones leave. */
    private final Set<PendingEvent> unfinished = new LinkedHashSet<>();
    private final PriorityQueue<UserQueue> waiting = new PriorityQueue<>(Comparator.comparingLong(q -> q.notBefore));
    int inFlight;
    private int suspectsInFlight;
    boolean stopped;
    private int failures;
    private int refusedAlone;
    private long backoffUntil = NONE;
    private long lingerStart = NONE;
    private int eventLimit;
    private int byteLimit;
    /** Counts the 413s: a success of a request sized before the last one says nothing about the limits now. */
    private int limitEpoch;

    AccountExport(final String accountId, final ExportSettings settings, final ExporterSettings exporter,
                  final AmplitudeSink sink, final ExportMetrics metrics) {
        this.accountId = accountId;
        this.settings = settings;
        this.exporter = exporter;
        this.url = settings.url();
        this.envelope = EventJson.Envelope.of(settings.apiKey(), settings.minIdLength());
        this.sink = sink;
        this.metrics = metrics;
        this.idRate = exporter.eventsPerIdPerSecond(settings.endpoint());
        this.eventLimit = settings.endpoint().maxEvents();
        this.byteLimit = settings.endpoint().maxBytes();
    }

    /** Amplitude's answer text with the API key masked, in case an answer ever echoes it. */
    String redact(final String text) {
        final String key = settings.apiKey().reveal();
        return text == null || key.isEmpty() ? text : text.replace(key, "****");
    }

    /** Whether one event alone fits in a request. */
    boolean fits(final byte[] json) {
        return envelope.overhead() + json.length <= settings.endpoint().maxBytes();
    }

    void add(final PendingEvent event, final String key, final long now) {
        final UserQueue queue = queues.computeIfAbsent(key, k -> new UserQueue(k, idRate, now));
        event.queue = queue;
        queue.events.addLast(event);
        unfinished.add(event);
        if (queue.state == UserQueue.State.IDLE) {
            schedule(queue, now);
        }
    }

    /** Puts a queue that has nothing in flight where it belongs: ready, waiting for its time, or idle. */
    private void schedule(final UserQueue queue, final long now) {
        if (queue.events.isEmpty()) {
            queue.state = UserQueue.State.IDLE;
            return;
        }
        final long readyAt = queue.readyAt(now);
        if (readyAt <= now) {
            queue.state = UserQueue.State.READY;
            (queue.events.peekFirst().suspect() ? readySuspects : ready).add(queue);
        } else {
            queue.notBefore = readyAt;
            queue.state = UserQueue.State.WAITING;
            waiting.add(queue);
        }
    }

    /** Moves users whose throttle or pacing has passed to the ready set. */
    private void promote(final long now) {
        while (!waiting.isEmpty() && waiting.peek().notBefore <= now) {
            final UserQueue queue = waiting.poll();
            schedule(queue, now);
        }
    }

    /**
     * The next request to send now, or null: suspects first, then a full one whenever the ready users fill it, a
     * partial one once the oldest ready event has lingered long enough, nothing during a backoff or with all request
     * slots busy. Events of revoked partitions met on the way are dropped through {@code drop}.
     */
    Batch nextBatch(final long now, final Consumer<PendingEvent> drop) {
        if (stopped || inFlight >= exporter.maxInFlightRequests() || backoffUntil != NONE && now < backoffUntil) {
            return null;
        }
        promote(now);
        final Batch suspects = nextSuspects(now, drop);
        if (suspects != null) {
            return suspects;
        }
        if (ready.isEmpty()) {
            lingerStart = NONE;
            return null;
        }
        if (!canFill(now)) {
            if (lingerStart == NONE) {
                lingerStart = now;
            }
            if (now - lingerStart < exporter.linger().toNanos()) {
                return null;
            }
        }
        final Batch batch = build(now, drop, ready, false);
        lingerStart = ready.isEmpty() ? NONE : now;
        return batch.events.isEmpty() ? null : batch;
    }

    /**
     * A request of suspects, sent without lingering (they waited already) and never with other events. Suspects take
     * at most half the request slots, so the account's other users keep flowing while the refused event is isolated.
     */
    private Batch nextSuspects(final long now, final Consumer<PendingEvent> drop) {
        if (readySuspects.isEmpty() || suspectsInFlight >= Math.max(1, exporter.maxInFlightRequests() / 2)) {
            return null;
        }
        final Batch batch = build(now, drop, readySuspects, true);
        return batch.events.isEmpty() ? null : batch;
    }

    /** Whether the ready users hold enough to fill a request. */
    private boolean canFill(final long now) {
        int events = 0;
        long bytes = envelope.overhead();
        for (final UserQueue queue : ready) {
            int allowed = queue.allowance(now);
            for (final PendingEvent event : queue.events) {
                if (allowed-- <= 0) {
                    break;
                }
                events++;
                bytes += event.json.length + 1;
                if (events >= eventLimit || bytes >= byteLimit) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Fills a request from the users of {@code from}: only suspects, each in a request no larger than its limit, or
     * only events that are not. A user's suspects come before its other events, so per-user order holds.
     */
    private Batch build(final long now, final Consumer<PendingEvent> drop, final Set<UserQueue> from,
                        final boolean suspects) {
        final Batch batch = new Batch(this, envelope.overhead(), suspects, limitEpoch);
        final Iterator<UserQueue> candidates = from.iterator();
        int limit = eventLimit;
        boolean full = false;
        while (!full && candidates.hasNext() && batch.events.size() < limit) {
            final UserQueue queue = candidates.next();
            final int allowed = queue.allowance(now);
            int taken = 0;
            while (taken < allowed && !queue.events.isEmpty() && batch.events.size() < limit) {
                final PendingEvent event = queue.events.peekFirst();
                if (event.abandoned()) {
                    queue.events.pollFirst();
                    unfinished.remove(event);
                    drop.accept(event);
                    continue;
                }
                if (event.suspect() != suspects || suspects && event.suspectLimit <= batch.events.size()) {
                    break;
                }
                if (!batch.events.isEmpty() && batch.bytes + batch.cost(event) > byteLimit) {
                    full = true;
                    break;
                }
                limit = suspects ? Math.min(limit, event.suspectLimit) : limit;
                batch.add(queue.events.pollFirst());
                taken++;
            }
            // Never schedule() here: it would add to the set being iterated.
            if (taken > 0) {
                candidates.remove();
                queue.spend(taken);
                queue.state = UserQueue.State.IN_FLIGHT;
                batch.users.add(queue);
            } else if (queue.events.isEmpty()) {
                candidates.remove();
                queue.state = UserQueue.State.IDLE;
            } else if (queue.events.peekFirst().suspect() != suspects) {
                // Its suspects were of a revoked partition and are dropped: its other events go the usual way.
                candidates.remove();
                (suspects ? ready : readySuspects).add(queue);
            }
        }
        if (!batch.events.isEmpty()) {
            inFlight++;
            suspectsInFlight += suspects ? 1 : 0;
        }
        return batch;
    }

    /** Puts events of an answered request back at the front of their users' queues, in their original order. */
    void requeue(final List<PendingEvent> events) {
        for (int i = events.size() - 1; i >= 0; i--) {
            final PendingEvent event = events.get(i);
            event.queue.events.addFirst(event);
        }
    }

    /**
     * Amplitude refused a request without naming the event at fault (a 403, or a 400 listing none): its events go
     * again only among themselves, in requests of at most {@code limit} events, so halving isolates the refused one
     * whatever other requests meanwhile achieve.
     */
    void suspect(final List<PendingEvent> events, final int limit) {
        events.forEach(event -> event.suspectLimit = limit);
        requeue(events);
    }

    /** Blocks a user (after a 429) until {@code until}. */
    void throttle(final UserQueue queue, final long until) {
        queue.notBefore = Math.max(queue.notBefore, until);
    }

    /** Ends a request: its users may be scheduled again. */
    void release(final Batch batch, final long now) {
        inFlight--;
        suspectsInFlight -= batch.suspects ? 1 : 0;
        for (final UserQueue queue : batch.users) {
            schedule(queue, now);
        }
    }

    /** An event left the account's buffer (accepted, dead-lettered, parked or dropped). */
    void finished(final PendingEvent event) {
        unfinished.remove(event);
    }

    /** Events read and not yet accepted, dead-lettered, parked or dropped. */
    int pending() {
        return unfinished.size();
    }

    /** Counts one more event refused alone since the account's last accepted request; returns the count before. */
    int refusedAlone() {
        return refusedAlone++;
    }

    void succeeded(final Batch batch) {
        refusedAlone = 0;
        failures = 0;
        backoffUntil = NONE;
        if (batch.limitEpoch == limitEpoch) {
            // A step per success: doubling would undo a 413 at the first few answers, concurrent ones included.
            final Endpoint endpoint = settings.endpoint();
            eventLimit = Math.min(endpoint.maxEvents(),
                eventLimit + Math.max(1, endpoint.maxEvents() / LIMIT_RECOVERY_STEPS));
            byteLimit = Math.min(endpoint.maxBytes(), byteLimit + endpoint.maxBytes() / LIMIT_RECOVERY_STEPS);
        }
    }

    /** A 5xx or timeout: the whole account waits, exponentially longer per failure in a row, with jitter. */
    void backOff(final long now) {
        failures++;
        final long exponential = exporter.retryBackoffNanos(failures);
        final long jittered = (long) (exponential * (0.5 + ThreadLocalRandom.current().nextDouble() * 0.5));
        backoffUntil = now + jittered;
    }

    /** A 413: the next requests carry at most half of this one. */
    void shrink(final Batch batch) {
        eventLimit = Math.max(1, batch.events.size() / 2);
        byteLimit = Math.max(envelope.overhead() + 1, batch.bytes / 2);
        limitEpoch++;
    }

    /**
     * Stops the account: returns every queued event (to be parked, which finishes it); later events are parked as
     * they arrive, and so are the events of requests answered after the stop.
     */
    List<PendingEvent> stop() {
        stopped = true;
        final List<PendingEvent> queued = new ArrayList<>();
        queues.values().forEach(queue -> {
            queued.addAll(queue.events);
            queue.events.clear();
        });
        queues.clear();
        ready.clear();
        readySuspects.clear();
        waiting.clear();
        return queued;
    }

    /** When this account next has something to do (linger end, backoff end, a throttle passing), or NONE. */
    long nextWake(final long now) {
        if (stopped) {
            return NONE;
        }
        long wake = NONE;
        if (backoffUntil != NONE && backoffUntil > now) {
            return backoffUntil;
        }
        if (!ready.isEmpty() && inFlight < exporter.maxInFlightRequests()) {
            wake = lingerStart == NONE ? now : lingerStart + exporter.linger().toNanos();
        }
        if (!readySuspects.isEmpty() && inFlight < exporter.maxInFlightRequests()) {
            wake = now;
        }
        if (!waiting.isEmpty()) {
            wake = wake == NONE ? waiting.peek().notBefore : Math.min(wake, waiting.peek().notBefore);
        }
        return wake;
    }

    static boolean isNone(final long time) {
        return time == NONE;
    }

    /** Record timestamp of the first-read event not yet accepted, dead-lettered or parked, or NONE. */
    long oldestPendingTimestamp() {
        // Events of a revoked partition wait here until their user's turn drops them; they are no longer ours.
        for (final PendingEvent event : unfinished) {
            if (!event.abandoned()) {
                return event.timestamp;
            }
        }
        return NONE;
    }

    /** Forgets idle users whose pacing has fully recovered, so the map holds only users with recent traffic. */
    void forgetIdleUsers(final long now) {
        queues.values().removeIf(queue -> queue.forgettable(now));
    }
}
