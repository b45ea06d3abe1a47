package io.cohortsync.deadletter;

import io.cohortsync.serde.IncompatibleSchemaException;
import io.cohortsync.serde.SchemaRegistryUnavailableException;
import io.cohortsync.serde.UnknownSchemaIdException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Decodes an input record's value, turning every way it can be bad into a reason code. A registry that cannot be
 * reached is not the record's fault: that error is rethrown so the task retries instead of dead-lettering.
 */
public final class InputDecoder<T> {

    private final Deserializer<T> deserializer;
    private final int maxRecordBytes;

    public InputDecoder(final Deserializer<T> deserializer, final int maxRecordBytes) {
        this.deserializer = deserializer;
        this.maxRecordBytes = maxRecordBytes;
    }

    /** The outcome: exactly one of value and reason is set; both are null for a tombstone. */
    public record Result<T>(T value, ReasonCode reason, String message) {
        public boolean rejected() {
            return reason != null;
        }
    }

    public Result<T> decode(final String topic, final byte[] bytes) {
        if (bytes == null) {
            return new Result<>(null, null, null);
        }
        if (bytes.length > maxRecordBytes) {
            return new Result<>(null, ReasonCode.RECORD_TOO_LARGE, "record value is " + bytes.length
                + " bytes; at most " + maxRecordBytes + " are accepted (ingest.max-record-bytes). The value is not "
                + "copied into this letter: read it at the source topic, partition and offset");
        }
        try {
            return new Result<>(deserializer.deserialize(topic, bytes), null, null);
        } catch (final SchemaRegistryUnavailableException e) {
            throw e;
        } catch (final UnknownSchemaIdException e) {
            return new Result<>(null, ReasonCode.UNKNOWN_SCHEMA_ID, e.getMessage());
        } catch (final IncompatibleSchemaException e) {
            return new Result<>(null, ReasonCode.SCHEMA_MISMATCH, e.getMessage());
        } catch (final SerializationException | ClassCastException e) {
            return new Result<>(null, ReasonCode.DESERIALIZATION_FAILED, String.valueOf(e.getMessage()));
        }
    }
}
