package io.cohortsync.config;

/** A configuration value that cannot be used; the message names the key, where it came from and what is expected. */
public final class InvalidConfigException extends RuntimeException {
    public InvalidConfigException(final String message) {
        super(message);
    }

    public InvalidConfigException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
