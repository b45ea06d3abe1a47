package io.cohortsync.topology;

import org.apache.kafka.common.errors.SerializationException;

/**
 * An internal record (store value or repartition record) written in another format than this build reads: state of
 * another cohort-sync version, newer or older. Retrying cannot fix it, unlike most failures of a stream thread.
 */
public final class StateFormatException extends SerializationException {

    private static final long serialVersionUID = 1L;

    StateFormatException(final String message) {
        super(message);
    }
}
