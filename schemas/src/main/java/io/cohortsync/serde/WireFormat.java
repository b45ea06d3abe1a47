package io.cohortsync.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * Confluent's wire format: byte 0 is the magic byte 0, bytes 1-4 the schema id (big-endian), then the Avro
 * binary encoding of the record with that schema.
 */
final class WireFormat {

    static final byte MAGIC_BYTE = 0;
    static final int HEADER_SIZE = 5;

    private WireFormat() {
    }

    /** Confluent's default TopicNameStrategy. */
    static String subject(final String topic, final boolean isKey) {
        if (topic == null || topic.isEmpty()) {
            throw new SerializationException("A topic name is needed to derive the schema subject "
                    + "(<topic>-key / <topic>-value); the serializer was called without one");
        }
        return topic + (isKey ? "-key" : "-value");
    }

    static void writeHeader(final byte[] target, final int schemaId) {
        target[0] = MAGIC_BYTE;
        target[1] = (byte) (schemaId >>> 24);
        target[2] = (byte) (schemaId >>> 16);
        target[3] = (byte) (schemaId >>> 8);
        target[4] = (byte) schemaId;
    }

    /** The schema id of a record whose header {@link #checkHeader} accepted. */
    static int schemaId(final byte[] record) {
        return (record[1] & 0xff) << 24 | (record[2] & 0xff) << 16 | (record[3] & 0xff) << 8 | record[4] & 0xff;
    }

    static void checkHeader(final String topic, final byte[] record) {
        if (record.length == 0) {
            throw new SerializationException("Record of 0 bytes from topic '" + topic + "' is not in the Confluent "
                    + "wire format (a tombstone is a null value, not an empty one)");
        }
        if (record[0] != MAGIC_BYTE) {
            throw new UnknownMagicByteException(topic, record[0]);
        }
        if (record.length < HEADER_SIZE) {
            throw new SerializationException("Record of " + record.length + " byte(s) from topic '" + topic
                    + "' is too short for the Confluent wire format, which needs at least " + HEADER_SIZE
                    + " bytes (magic byte 0 and a 4-byte schema id) before the Avro data");
        }
    }
}
