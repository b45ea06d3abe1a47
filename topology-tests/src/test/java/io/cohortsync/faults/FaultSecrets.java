package io.cohortsync.faults;

import java.util.List;

/**
 * The secrets the fault suites configure: recognisable values that {@link SecretScan} then looks for in every log line
 * and error body. Each suite that configures an account uses these, so a leak anywhere is caught.
 */
public final class FaultSecrets {

    /** An Amplitude API key (export). */
    public static final String API_KEY = "amp-key-7f3c9e21d4b8a650";
    /** The current webhook passcode. */
    public static final String PASSCODE = "ct-pass-5d2e8a9b41c7f360";
    /** An older webhook passcode still accepted during a rotation. */
    public static final String OLD_PASSCODE = "ct-pass-old-90ab7c3e1f2d4865";
    /** The HTTP API token. */
    public static final String HTTP_TOKEN = "http-token-c41e7b9d02a8f356";
    /** A schema registry basic-auth password, given inside the registry URL. */
    public static final String REGISTRY_PASSWORD = "reg-pass-3b9d7e215c4a";

    private FaultSecrets() {
    }

    public static List<String> all() {
        return List.of(API_KEY, PASSCODE, OLD_PASSCODE, HTTP_TOKEN, REGISTRY_PASSWORD);
    }
}
