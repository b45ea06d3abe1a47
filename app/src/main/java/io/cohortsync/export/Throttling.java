package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;

import java.util.Set;

/**
 * Whom an Amplitude answer throttles: the users and devices in {@code throttled_users} / {@code throttled_devices},
 * the events at {@code throttled_events}, and the ids over their daily quota. A 429 carries these, and so does the
 * 400 that silences devices, whose {@code throttled_events} are to be sent again later, not dropped.
 */
final class Throttling {

    private final Set<String> users;
    private final Set<String> devices;
    private final Set<Integer> indexes;
    private final Set<String> quotaUsers;
    private final Set<String> quotaDevices;
    private final long throttledUntil;
    private final long quotaUntil;

    /** {@code throttledUntil} / {@code quotaUntil}: when a throttled id / an id over its daily quota may go again. */
    Throttling(final AmplitudeResponse response, final long throttledUntil, final long quotaUntil) {
        this.users = response.throttledUsers();
        this.devices = response.throttledDevices();
        this.indexes = response.throttledEvents();
        this.quotaUsers = response.quotaUsers();
        this.quotaDevices = response.quotaDevices();
        this.throttledUntil = throttledUntil;
        this.quotaUntil = quotaUntil;
    }

    /**
     * Until when the event at {@code index} of the request must wait: {@code quotaUntil} for an id over its daily
     * quota, {@code throttledUntil} for a throttled one, else {@link AccountExport#NONE}.
     */
    long waitUntil(final int index, final AmplitudeEvent event) {
        final String userId = event.getUserId();
        final String deviceId = event.getDeviceId();
        if (userId != null && quotaUsers.contains(userId) || deviceId != null && quotaDevices.contains(deviceId)) {
            return quotaUntil;
        }
        if (userId != null && users.contains(userId) || deviceId != null && devices.contains(deviceId)
            || indexes.contains(index)) {
            return throttledUntil;
        }
        return AccountExport.NONE;
    }
}
