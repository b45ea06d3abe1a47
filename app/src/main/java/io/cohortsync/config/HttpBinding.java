package io.cohortsync.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Set;

/** Rules of the HTTP face's binding: the queries are never reachable from the network without a token. */
final class HttpBinding {

    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "::1", "[::1]");
    private static final Set<String> WILDCARD = Set.of("0.0.0.0", "::", "[::]");

    private HttpBinding() {
    }

    static void validate(final CohortSyncConfig config) {
        final String host = config.httpHost();
        if (config.httpToken().isEmpty() && !LOOPBACK.contains(host)) {
            throw new InvalidConfigException(config.describe("http.host") + " is '" + host
                + "' but http.token is not set: without a token the query endpoints are unauthenticated, so "
                + "cohort-sync only binds to 127.0.0.1. Set http.token (or " + ConfigLayers.envName("http.token")
                + ") to serve on the network");
        }
        final String syncType = config.webhookDefaultSyncType();
        if (!Set.of("ONE_TIME", "HOURLY", "DAILY", "REAL_TIME").contains(syncType)) {
            throw new InvalidConfigException(config.describe("webhook.default-sync-type")
                + " must be ONE_TIME, HOURLY, DAILY or REAL_TIME, got '" + syncType + "'");
        }
    }

    /** A specific bind address is what others dial; for a wildcard bind, this machine's name. */
    static String advertisedHostFor(final String bindHost) {
        if (!WILDCARD.contains(bindHost)) {
            return bindHost;
        }
        try {
            return InetAddress.getLocalHost().getCanonicalHostName();
        } catch (final UnknownHostException e) {
            return "127.0.0.1";
        }
    }
}
