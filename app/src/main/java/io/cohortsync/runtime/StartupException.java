package io.cohortsync.runtime;

/** The service cannot start for a reason outside it (Kafka unreachable, topics missing); the message says which. */
public final class StartupException extends RuntimeException {

    public StartupException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
