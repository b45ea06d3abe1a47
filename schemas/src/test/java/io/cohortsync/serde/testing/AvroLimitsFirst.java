package io.cohortsync.serde.testing;

import io.cohortsync.serde.AvroDecodingLimits;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Installs Avro's decoding limits when a test run starts, before any test builds a record, as the CLI's main does
 * before anything else: Avro reads them once, the first time it builds a string. Registered through
 * {@code META-INF/services}, so every module whose tests use this module's test jar gets it too.
 */
public final class AvroLimitsFirst implements LauncherSessionListener {

    @Override
    public void launcherSessionOpened(final LauncherSession session) {
        AvroDecodingLimits.install();
    }
}
