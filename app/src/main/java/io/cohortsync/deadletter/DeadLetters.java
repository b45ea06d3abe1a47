package io.cohortsync.deadletter;

import io.cohortsync.avro.DeadLetter;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

import java.nio.ByteBuffer;
import java.util.Optional;

/** Builds {@link DeadLetter} records that carry the rejected bytes and where they came from. */
public final class DeadLetters {

    /**
     * A letter's record key is the rejected record's key; its copy inside the letter, and the message (which may
     * quote it), are kept short, so a letter for a record with a huge key still fits the topic that record came from.
     */
    static final int MAX_COPIED_KEY_BYTES = 1024;
    static final int MAX_MESSAGE_CHARS = 2048;

    private DeadLetters() {
    }

    private static String capped(final String message) {
        return message == null || message.length() <= MAX_MESSAGE_CHARS ? message
            : message.substring(0, MAX_MESSAGE_CHARS) + "... (" + (message.length() - MAX_MESSAGE_CHARS)
                + " more characters)";
    }

    /** Forwards the rejected input record, with its bytes and where it came from, as a {@link DeadLettered}. */
    public static <K> void forward(final ProcessorContext<K, Object> context, final Record<byte[], byte[]> rejected,
                                   final ReasonCode reason, final String message) {
        context.forward(new Record<>((K) null, new DeadLettered(rejected.key(), of(context.recordMetadata(),
            rejected.timestamp(), rejected.key(), rejected.value(), reason, message, context.currentSystemTimeMs())),
            rejected.timestamp()));
    }

    public static DeadLetter of(final Optional<RecordMetadata> source, final long sourceTimestamp, final byte[] key,
                                final byte[] value, final ReasonCode reason, final String message, final long now) {
        return of(source.map(RecordMetadata::topic).orElse(null), source.map(RecordMetadata::partition).orElse(null),
            source.map(RecordMetadata::offset).orElse(null), sourceTimestamp, key, value, reason, message, now);
    }

    /** A letter for the record at a source topic, partition and offset (each may be null). */
    public static DeadLetter of(final String sourceTopic, final Integer sourcePartition, final Long sourceOffset,
                                final long sourceTimestamp, final byte[] key, final byte[] value,
                                final ReasonCode reason, final String message, final long now) {
        final byte[] keptValue = keepsValue(reason) ? value : null;
        return DeadLetter.newBuilder()
            .setReasonCode(reason.name())
            .setMessage(capped(message))
            .setSourceTopic(sourceTopic)
            .setSourcePartition(sourcePartition)
            .setSourceOffset(sourceOffset)
            .setSourceTimestamp(java.time.Instant.ofEpochMilli(sourceTimestamp))
            .setKey(key == null || key.length > MAX_COPIED_KEY_BYTES ? null : ByteBuffer.wrap(key))
            .setValue(keptValue == null ? null : ByteBuffer.wrap(keptValue))
            .setOccurredAt(java.time.Instant.ofEpochMilli(now))
            .build();
    }

    /**
     * Whether a letter for this reason carries the rejected value. Not for a record over the size limit: the letter
     * would be larger still, and one that does not fit the dead-letter topic fails its producer on every retry, which
     * would block the partition behind it. Its bytes stay at the source topic, partition and offset the letter names.
     */
    public static boolean keepsValue(final ReasonCode reason) {
        return reason != ReasonCode.RECORD_TOO_LARGE;
    }
}
