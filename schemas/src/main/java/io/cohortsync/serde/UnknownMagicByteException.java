package io.cohortsync.serde;

import org.apache.kafka.common.errors.SerializationException;

/** The first byte of a record is not the Confluent wire format's magic byte 0. */
public class UnknownMagicByteException extends SerializationException {

    private final int magicByte;

    public UnknownMagicByteException(final String topic, final int magicByte) {
        super(String.format("Unknown magic byte 0x%02x in a record from topic '%s': the Confluent wire format starts "
                + "with magic byte 0x00 followed by a 4-byte schema id; was this record written by a "
                + "Confluent-compatible Avro serializer?", magicByte & 0xff, topic));
        this.magicByte = magicByte & 0xff;
    }

    /** The byte that was found where 0 was expected, as an unsigned value (0-255). */
    public int magicByte() {
        return magicByte;
    }
}
