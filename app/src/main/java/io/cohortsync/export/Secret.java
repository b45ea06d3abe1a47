package io.cohortsync.export;

import java.util.Objects;

/**
 * A secret setting such as an Amplitude API key. Its {@link #toString()} is {@code ****}, so a secret that ends up in
 * a log line, an exception message or a record's toString never shows its value; only {@link #reveal()} does, and
 * only the request body builder calls it.
 */
public final class Secret {

    private static final Secret EMPTY = new Secret("");

    private final String value;

    private Secret(final String value) {
        this.value = Objects.requireNonNull(value);
    }

    public static Secret of(final String value) {
        return value == null || value.isBlank() ? EMPTY : new Secret(value.trim());
    }

    public static Secret empty() {
        return EMPTY;
    }

    public boolean isEmpty() {
        return value.isEmpty();
    }

    /** The secret's value: for the request body only, never for a message. */
    public String reveal() {
        return value;
    }

    @Override
    public boolean equals(final Object other) {
        return other instanceof Secret secret && secret.value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return value.isEmpty() ? "(none)" : "****";
    }
}
