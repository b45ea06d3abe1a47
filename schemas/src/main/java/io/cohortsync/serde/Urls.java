package io.cohortsync.serde;

import java.util.regex.Pattern;

/** Keeps credentials embedded in registry URLs out of messages and logs. */
final class Urls {

    // Userinfo may hold any character but '/', '?' and '#' (RFC 3986); greedy so a '@' inside it is also removed.
    private static final Pattern USER_INFO = Pattern.compile("(?<=://)[^/?#]*@");

    private Urls() {
    }

    static String redact(final String url) {
        return url == null ? null : USER_INFO.matcher(url).replaceFirst("");
    }
}
