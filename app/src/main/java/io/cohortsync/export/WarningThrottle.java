package io.cohortsync.export;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Logs a warning at most every 10 s per key, so a long outage does not flood the log. Owned by the exporter's loop
 * thread, like the rest of its state.
 */
final class WarningThrottle {

    /** The exporter's logger: operators (and tests) follow the exporter's warnings by that name. */
    private static final Logger LOG = LoggerFactory.getLogger(AmplitudeExporter.class);
    private static final long INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();

    private final Map<String, Long> lastWarning = new HashMap<>();

    void warn(final String key, final String message) {
        final long now = System.nanoTime();
        final Long last = lastWarning.get(key);
        if (last == null || now - last > INTERVAL_NANOS) {
            lastWarning.put(key, now);
            LOG.warn(message);
        }
    }
}
