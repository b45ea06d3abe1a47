package io.cohortsync.export;

/**
 * Amplitude's two event upload endpoints and their documented limits (reference: partner-apis.md sections 1 and 2).
 * Both take the same JSON body; /batch allows larger requests and more events per id, and is meant for backlogs.
 */
public enum Endpoint {
    /** {@code POST /2/httpapi}: at most 2000 events and 1 MB per request; about 30 events/s per user or device. */
    HTTP_V2("/2/httpapi", 2000, 1_000_000, 30),
    /** {@code POST /batch}: at most 2000 events and 20 MB per request; 1000 events/s per user or device. */
    BATCH("/batch", 2000, 20_000_000, 1000);

    private final String path;
    private final int maxEvents;
    private final int maxBytes;
    private final int eventsPerIdPerSecond;

    Endpoint(final String path, final int maxEvents, final int maxBytes, final int eventsPerIdPerSecond) {
        this.path = path;
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
        this.eventsPerIdPerSecond = eventsPerIdPerSecond;
    }

    public String path() {
        return path;
    }

    /** Most events in one request. */
    public int maxEvents() {
        return maxEvents;
    }

    /**
     * Largest serialized request body. Amplitude writes "1 MB" and "20 MB"; the decimal reading is the stricter one,
     * so it is the one used.
     */
    public int maxBytes() {
        return maxBytes;
    }

    /** Events per second one user_id or device_id may send before Amplitude throttles it. */
    public int eventsPerIdPerSecond() {
        return eventsPerIdPerSecond;
    }
}
