package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;

/**
 * One record of the export topic from the moment it is read until Amplitude accepted it, it was dead-lettered or
 * parked ({@link #finish}). Records that do not decode have no event and go straight to the dead-letter topic.
 */
final class PendingEvent {

    final PartitionProgress partition;
    final long offset;
    final long timestamp;
    final long readAtNanos;
    byte[] rawKey;
    byte[] rawValue;
    AmplitudeEvent event;
    byte[] json;
    UserQueue queue;
    /**
     * 0, or, once a request it was in was refused without naming the event at fault, the most events a request
     * carrying it may hold: halved at each such refusal until the refused event is alone.
     */
    int suspectLimit;

    PendingEvent(final PartitionProgress partition, final long offset, final long timestamp, final byte[] rawKey,
                 final byte[] rawValue, final AmplitudeEvent event, final byte[] json, final long readAtNanos) {
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
        this.rawKey = rawKey;
        this.rawValue = rawValue;
        this.event = event;
        this.json = json;
        this.readAtNanos = readAtNanos;
    }

    boolean suspect() {
        return suspectLimit > 0;
    }

    /** Whether its partition was taken away by a rebalance: its outcome no longer matters here. */
    boolean abandoned() {
        return partition.revoked;
    }

    /**
     * Accepted, dead-lettered or parked: its offset no longer holds back the commit, and its payload is let go at
     * once, so an event finished behind a long-throttled one costs nothing while it waits.
     */
    void finish() {
        partition.finished(offset);
        rawKey = null;
        rawValue = null;
        event = null;
        json = null;
        queue = null;
    }
}
