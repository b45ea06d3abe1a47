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

    /**
     * For a URL that did not parse, whose password may hold the '/', '?' or '#' that end the user info of a valid
     * one: everything between the scheme and the last '@' goes.
     */
    static String redactInvalid(final String url) {
        final int start = url.indexOf("://");
        final int at = url.lastIndexOf('@');
        return start < 0 || at < start ? url : url.substring(0, start + 3) + url.substring(at + 1);
    }
}
