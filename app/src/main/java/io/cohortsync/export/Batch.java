package io.cohortsync.export;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** One upload request: its events in order, the users they belong to, and its exact body size. */
final class Batch {

    final AccountExport account;
    final List<PendingEvent> events = new ArrayList<>();
    final Set<UserQueue> users = new LinkedHashSet<>();
    /** Whether it carries suspects (events of a request refused without naming one), and only them. */
    final boolean suspects;
    /** The account's 413 count when it was built: what its success says about the request limits. */
    final int limitEpoch;
    int bytes;

    Batch(final AccountExport account, final int envelopeBytes, final boolean suspects, final int limitEpoch) {
        this.account = account;
        this.bytes = envelopeBytes;
        this.suspects = suspects;
        this.limitEpoch = limitEpoch;
    }

    /** Bytes the event adds: itself and a comma after the first. */
    int cost(final PendingEvent event) {
        return event.json.length + (events.isEmpty() ? 0 : 1);
    }

    void add(final PendingEvent event) {
        bytes += cost(event);
        events.add(event);
    }

    byte[] body() {
        final List<byte[]> jsons = new ArrayList<>(events.size());
        events.forEach(event -> jsons.add(event.json));
        return account.envelope.body(jsons, bytes);
    }

    /** The larger of events/limit and bytes/limit: 1.0 is a request Amplitude could not take one more event in. */
    double fill() {
        final Endpoint endpoint = account.settings.endpoint();
        return Math.max((double) events.size() / endpoint.maxEvents(), (double) bytes / endpoint.maxBytes());
    }
}
