package io.cohortsync.faults;

import java.time.Duration;

/**
 * Sizes of the fault suites. CI runs the short variant; {@code -Dcohort-sync.soak=true} on the Maven command line runs
 * the longer soak variant of every suite (see the README's "What happens when..." section).
 */
public final class Soak {

    public static final boolean ENABLED = Boolean.getBoolean("cohort-sync.soak");

    private Soak() {
    }

    /** {@code ci} normally, {@code soak} in the soak variant. */
    public static int pick(final int ci, final int soak) {
        return ENABLED ? soak : ci;
    }

    public static Duration pick(final Duration ci, final Duration soak) {
        return ENABLED ? soak : ci;
    }
}
