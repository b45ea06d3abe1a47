package io.cohortsync.http;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The {@code Host} names a server without {@code http.token} serves its open endpoints to. Binding to loopback keeps
 * other machines out, but not a web page in a local browser: by DNS rebinding the page's own name comes to resolve to
 * 127.0.0.1, and the browser then sends the page's requests here as same-origin, with the page's name in
 * {@code Host}, and lets the page read the answers. A local client or another instance names a loopback address,
 * {@code localhost}, or this instance's configured host; nothing else.
 */
final class LoopbackHosts {

    private static final Pattern IPV4_LOOPBACK = Pattern.compile("127(\\.\\d{1,3}){3}");
    private static final Set<String> NAMES = Set.of("localhost", "[::1]");

    private final Set<String> configured;

    /** {@code configured}: the bind and advertised hosts, which a tokenless configuration keeps on loopback. */
    LoopbackHosts(final String... configured) {
        this.configured = Stream.of(configured).map(LoopbackHosts::normalized).collect(Collectors.toUnmodifiableSet());
    }

    boolean accepts(final String hostHeader) {
        final String name = hostHeader == null ? "" : nameOf(hostHeader);
        return NAMES.contains(name) || IPV4_LOOPBACK.matcher(name).matches() || configured.contains(name);
    }

    /** The Host header's name without its port, in lower case; an IPv6 address keeps its brackets. */
    private static String nameOf(final String hostHeader) {
        final String host = hostHeader.trim().toLowerCase(Locale.ROOT);
        if (host.startsWith("[")) {
            final int end = host.indexOf(']');
            return end < 0 ? "" : host.substring(0, end + 1);
        }
        final int colon = host.indexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }

    /** A configured host as a Host header names it: an IPv6 address in brackets. */
    private static String normalized(final String host) {
        final String lower = host.trim().toLowerCase(Locale.ROOT);
        return lower.contains(":") && !lower.startsWith("[") ? "[" + lower + "]" : lower;
    }
}
