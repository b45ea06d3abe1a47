package io.cohortsync.export;

import java.util.ArrayDeque;

/**
 * The waiting events of one Amplitude user (the export topic's key: account and user_id, else device_id), in
 * offset order. A user is in at most one request at a time, so a later event is never sent before an earlier one
 * was accepted; a token bucket paces the user at Amplitude's events-per-second limit.
 */
final class UserQueue {

    enum State { IDLE, READY, WAITING, IN_FLIGHT }

    final String key;
    final ArrayDeque<PendingEvent> events = new ArrayDeque<>();
    State state = State.IDLE;
    /** Throttled (429) until this time, in nanoTime. */
    long notBefore;
    private final double rate;
    private double tokens;
    private long tokensAt;

    UserQueue(final String key, final int eventsPerSecond, final long now) {
        this.key = key;
        this.rate = eventsPerSecond;
        this.tokens = eventsPerSecond;
        this.tokensAt = now;
    }

    /** Events this user may send now. */
    int allowance(final long now) {
        refill(now);
        return (int) Math.floor(tokens);
    }

    void spend(final int events) {
        tokens -= events;
    }

    /** When the user may send again: after any throttle and once a token is back. */
    long readyAt(final long now) {
        refill(now);
        final long tokenAt = tokens >= 1 ? now : now + (long) ((1 - tokens) / rate * 1e9);
        return Math.max(notBefore, tokenAt);
    }

    /** An idle queue whose bucket is full again carries no state worth keeping. */
    boolean forgettable(final long now) {
        refill(now);
        return state == State.IDLE && events.isEmpty() && tokens >= rate && now >= notBefore;
    }

    private void refill(final long now) {
        if (now > tokensAt) {
            tokens = Math.min(rate, tokens + (now - tokensAt) / 1e9 * rate);
            tokensAt = now;
        }
    }
}
