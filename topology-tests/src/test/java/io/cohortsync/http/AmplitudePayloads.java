package io.cohortsync.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;

/** Amplitude's default cohort webhook payload, built for tests (public: the fault suites use it too). */
public final class AmplitudePayloads {

    public static final String JSON = "application/json";

    private AmplitudePayloads() {
    }

    public static ObjectNode batch(final String cohortId, final String name, final boolean inCohort,
                            final long computedTimeSeconds, final String messageId, final ObjectNode... users) {
        final ObjectNode root = HttpTestClient.JSON.createObjectNode();
        root.put("cohort_name", name);
        root.put("cohort_id", cohortId);
        root.put("in_cohort", inCohort);
        root.put("computed_time", String.valueOf(computedTimeSeconds));
        root.put("message_id", messageId);
        final ArrayNode array = root.putArray("users");
        for (final ObjectNode user : users) {
            array.add(user);
        }
        return root;
    }

    /** A user whose CleverTap identity is in user_properties (the default identity setting). */
    public static ObjectNode identified(final String identity) {
        final ObjectNode user = HttpTestClient.JSON.createObjectNode();
        user.put("user_id", "amp-" + identity);
        user.putObject("user_properties").put("CleverTap_Identity", identity).put("plan", "pro").put("visits", 3);
        return user;
    }

    public static ObjectNode device(final String deviceId) {
        final ObjectNode user = HttpTestClient.JSON.createObjectNode();
        user.putNull("user_id");
        user.put("device_id", deviceId);
        user.putObject("user_properties");
        return user;
    }

    public static ObjectNode user(final String userId, final Map<String, String> properties) {
        final ObjectNode user = HttpTestClient.JSON.createObjectNode();
        user.put("user_id", userId);
        final ObjectNode props = user.putObject("user_properties");
        properties.forEach(props::put);
        return user;
    }
}
