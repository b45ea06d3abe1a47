package io.cohortsync.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Constant-time checks of webhook passcodes and the query token. Both sides are compared as SHA-256 digests, so
 * neither the content nor the length of a secret shows in the time a check takes; every configured passcode of
 * the account is compared (no early exit), and an unknown account costs the same as a known one.
 */
final class Secrets {

    private static final byte[] NO_MATCH = digest("\u0000no account\u0000");

    private final Map<String, List<byte[]>> passcodesByAccount;
    private final Optional<byte[]> token;

    Secrets(final Map<String, List<String>> passcodesByAccount, final Optional<String> token) {
        this.passcodesByAccount = passcodesByAccount.entrySet().stream().collect(Collectors.toUnmodifiableMap(
            Map.Entry::getKey, entry -> entry.getValue().stream().map(Secrets::digest).toList()));
        this.token = token.map(Secrets::digest);
    }

    /** True when the account is configured and {@code passcode} is one of its passcodes. */
    boolean passcodeMatches(final String accountId, final String passcode) {
        final List<byte[]> expected = accountId == null ? null : passcodesByAccount.get(accountId);
        final byte[] presented = digest(passcode == null ? "" : passcode);
        boolean matches = false;
        for (final byte[] candidate : expected == null || expected.isEmpty() ? List.of(NO_MATCH) : expected) {
            matches |= MessageDigest.isEqual(candidate, presented);
        }
        return matches && expected != null && passcode != null;
    }

    boolean tokenRequired() {
        return token.isPresent();
    }

    /** True when no token is configured, or {@code authorization} is {@code Bearer <token>}. */
    boolean bearerMatches(final String authorization) {
        if (token.isEmpty()) {
            return true;
        }
        final String prefix = "Bearer ";
        final String presented = authorization != null && authorization.regionMatches(true, 0, prefix, 0,
            prefix.length()) ? authorization.substring(prefix.length()).trim() : "";
        return MessageDigest.isEqual(token.get(), digest(presented)) && !presented.isEmpty();
    }

    static byte[] digest(final String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (final NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
