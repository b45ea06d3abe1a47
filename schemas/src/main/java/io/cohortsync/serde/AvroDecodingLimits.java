package io.cohortsync.serde;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.SystemLimitException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps the lengths a record may claim for a string, a bytes value or a collection before Avro allocates them.
 *
 * <p>Avro allocates what a length prefix claims before it reads the data, so a corrupt 30-byte record can claim two
 * billion array items and end in {@link OutOfMemoryError}, an {@code Error} that no deserialization or processing
 * handler sees: the stream thread would fail on that record again after every restart. Avro's own guard is three
 * system properties, read once when {@link SystemLimitException} loads; above them it throws that (runtime)
 * exception, which the deserializers turn into an ordinary {@code SerializationException}. This class sets each
 * property that is not set already. Avro reads them the first time it builds a string, not only when it decodes, so
 * the CLI installs this first thing and every cohort-sync serde class when it loads; an application that uses Avro
 * before it touches them should call {@link #install()} at its start, or pass the properties with {@code -D} (a value
 * set that way wins). A legitimate record is smaller than Kafka's record limit, so no real value comes near these
 * caps.
 */
public final class AvroDecodingLimits {

    /** Longest string or bytes value, in bytes: far beyond any record Kafka accepts by default (1-8 MB). */
    public static final int MAX_LENGTH_BYTES = 64 << 20;
    /** Most items in one array or map: every item takes at least one byte, so a record has fewer than its bytes. */
    public static final int MAX_COLLECTION_ITEMS = 16 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(AvroDecodingLimits.class);
    private static final boolean IN_EFFECT = applyDefaults();

    private AvroDecodingLimits() {
    }

    /** Sets the limits if this class has not done so yet; cheap to call from every deserializer's initializer. */
    public static void install() {
        // The work happens once, in the static initializer; calling this only makes sure the class is loaded.
    }

    /** Whether Avro enforces a limit on all three lengths (false if it loaded them before they were set). */
    public static boolean inEffect() {
        return IN_EFFECT;
    }

    private static boolean applyDefaults() {
        setIfAbsent(SystemLimitException.MAX_STRING_LENGTH_PROPERTY, MAX_LENGTH_BYTES);
        setIfAbsent(SystemLimitException.MAX_BYTES_LENGTH_PROPERTY, MAX_LENGTH_BYTES);
        setIfAbsent(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY, MAX_COLLECTION_ITEMS);
        final List<String> unlimited = unlimitedLengths();
        if (!unlimited.isEmpty()) {
            LOG.warn("Avro does not limit the {} a record may claim: it read its limits before cohort-sync set them, "
                    + "so a corrupt record can exhaust the heap instead of being rejected. Start the JVM with "
                    + "-D{}={} -D{}={} -D{}={}", String.join(", ", unlimited),
                    SystemLimitException.MAX_STRING_LENGTH_PROPERTY, MAX_LENGTH_BYTES,
                    SystemLimitException.MAX_BYTES_LENGTH_PROPERTY, MAX_LENGTH_BYTES,
                    SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY, MAX_COLLECTION_ITEMS);
        }
        return unlimited.isEmpty();
    }

    private static void setIfAbsent(final String property, final int limit) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, Integer.toString(limit));
        }
    }

    /** Asks Avro itself: a length just past the largest array the JVM can allocate passes only without a limit. */
    private static List<String> unlimitedLengths() {
        final long pastAnyCap = Integer.MAX_VALUE - 8L;
        final List<String> unlimited = new ArrayList<>();
        if (!rejects(() -> SystemLimitException.checkMaxStringLength(pastAnyCap))) {
            unlimited.add("string length");
        }
        if (!rejects(() -> SystemLimitException.checkMaxBytesLength(pastAnyCap))) {
            unlimited.add("bytes length");
        }
        if (!rejects(() -> SystemLimitException.checkMaxCollectionLength(pastAnyCap))) {
            unlimited.add("collection size");
        }
        return unlimited;
    }

    private static boolean rejects(final Runnable check) {
        try {
            check.run();
            return false;
        } catch (final SystemLimitException e) {
            return true;
        }
    }
}
