package io.cohortsync.serde;

import org.apache.avro.SystemLimitException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Decodes one record's bytes, refusing a length or an item count that the rest of the record cannot hold before
 * anything is allocated for it. Avro allocates what a length prefix claims and only then reads: a 10-byte record
 * claiming a 60 MiB string, or a 29-byte one claiming 16 Mi array items, made each decode allocate 60-64 MiB
 * ({@link AvroDecodingLimits} only caps the claim), so a stream of such records kept the heap and the collector busy
 * and could exhaust a small heap. A string or bytes value of n bytes needs n more bytes. An array or map item needs
 * at least one: true of every type cohort-sync writes (records of fields, strings, ints), not of an array of nulls.
 */
final class BoundedDecoder extends Decoder {

    private final BinaryDecoder in;

    BoundedDecoder(final BinaryDecoder in) {
        this.in = in;
    }

    @Override
    public Utf8 readString(final Utf8 old) throws IOException {
        final int length = stringLength();
        final Utf8 result = old != null ? old : new Utf8();
        result.setByteLength(length);
        in.readFixed(result.getBytes(), 0, length);
        return result;
    }

    @Override
    public String readString() throws IOException {
        final byte[] bytes = new byte[stringLength()];
        in.readFixed(bytes, 0, bytes.length);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public ByteBuffer readBytes(final ByteBuffer old) throws IOException {
        final int length = fits(SystemLimitException.checkMaxBytesLength(in.readLong()), "bytes for a bytes value");
        final ByteBuffer result = old != null && old.capacity() >= length ? old.clear() : ByteBuffer.allocate(length);
        in.readFixed(result.array(), result.arrayOffset(), length);
        return result.limit(length);
    }

    @Override
    public long readArrayStart() throws IOException {
        return fits(in.readArrayStart(), "array items");
    }

    @Override
    public long arrayNext() throws IOException {
        return fits(in.arrayNext(), "array items");
    }

    @Override
    public long readMapStart() throws IOException {
        return fits(in.readMapStart(), "map entries");
    }

    @Override
    public long mapNext() throws IOException {
        return fits(in.mapNext(), "map entries");
    }

    private int stringLength() throws IOException {
        return fits(SystemLimitException.checkMaxStringLength(in.readLong()), "bytes for a string");
    }

    /** {@code claimed} when the rest of the record has at least that many bytes; else the record is cut short. */
    private int fits(final long claimed, final String what) throws IOException {
        final int remaining = in.inputStream().available();
        if (claimed > remaining) {
            throw new EOFException("the record claims " + claimed + " " + what + " but has only " + remaining
                + " bytes left");
        }
        return (int) claimed;
    }

    // Everything else allocates nothing the record does not hold: plain delegation.

    @Override
    public void readNull() throws IOException {
        in.readNull();
    }

    @Override
    public boolean readBoolean() throws IOException {
        return in.readBoolean();
    }

    @Override
    public int readInt() throws IOException {
        return in.readInt();
    }

    @Override
    public long readLong() throws IOException {
        return in.readLong();
    }

    @Override
    public float readFloat() throws IOException {
        return in.readFloat();
    }

    @Override
    public double readDouble() throws IOException {
        return in.readDouble();
    }

    @Override
    public void skipString() throws IOException {
        in.skipString();
    }

    @Override
    public void skipBytes() throws IOException {
        in.skipBytes();
    }

    @Override
    public void readFixed(final byte[] bytes, final int start, final int length) throws IOException {
        in.readFixed(bytes, start, length);
    }

    @Override
    public void skipFixed(final int length) throws IOException {
        in.skipFixed(length);
    }

    @Override
    public int readEnum() throws IOException {
        return in.readEnum();
    }

    @Override
    public long skipArray() throws IOException {
        return in.skipArray();
    }

    @Override
    public long skipMap() throws IOException {
        return in.skipMap();
    }

    @Override
    public int readIndex() throws IOException {
        return in.readIndex();
    }
}
