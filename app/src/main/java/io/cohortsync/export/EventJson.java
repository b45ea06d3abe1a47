package io.cohortsync.export;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.cohortsync.avro.AmplitudeEvent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Amplitude's JSON: one event, and the request body {@code {"api_key":..,"events":[..],"options":{..}}} assembled
 * from pre-serialized events, so the exporter knows each request's exact size before sending it.
 */
public final class EventJson {

    private static final JsonFactory FACTORY = new JsonFactory();

    private EventJson() {
    }

    /** One event as Amplitude's HTTP V2 event object (account_id is cohort-sync's and is not sent). */
    public static byte[] of(final AmplitudeEvent event) {
        return new Writer().write(event);
    }

    /**
     * Writes events one after the other through one generator and buffer, which saves setting up a generator per
     * event on the exporter's hot path. Not thread-safe: one per thread.
     */
    public static final class Writer {

        private final ByteArrayBuilder buffer = new ByteArrayBuilder(512);
        private final JsonGenerator json;

        public Writer() {
            try {
                json = FACTORY.createGenerator(buffer);
            } catch (final IOException e) {
                throw new UncheckedIOException(e);
            }
            json.setRootValueSeparator(null);
        }

        public byte[] write(final AmplitudeEvent event) {
            buffer.reset();
            try {
                writeEvent(json, event);
                json.flush();
            } catch (final IOException e) {
                throw new UncheckedIOException(e);
            }
            return buffer.toByteArray();
        }
    }

    private static void writeEvent(final JsonGenerator json, final AmplitudeEvent event) throws IOException {
        {
            json.writeStartObject();
            json.writeStringField("event_type", event.getEventType());
            if (event.getUserId() != null) {
                json.writeStringField("user_id", event.getUserId());
            }
            if (event.getDeviceId() != null) {
                json.writeStringField("device_id", event.getDeviceId());
            }
            json.writeNumberField("time", event.getTime());
            json.writeStringField("insert_id", event.getInsertId());
            writeMap(json, "event_properties", event.getEventProperties());
            if (!event.getUserProperties().isEmpty()) {
                writeMap(json, "user_properties", event.getUserProperties());
            }
            json.writeEndObject();
        }
    }

    private static void writeMap(final JsonGenerator json, final String name, final Map<String, String> values)
        throws IOException {
        json.writeObjectFieldStart(name);
        for (final Map.Entry<String, String> entry : values.entrySet()) {
            json.writeStringField(entry.getKey(), entry.getValue());
        }
        json.writeEndObject();
    }

    /** The parts of a request body around the events, fixed per account. */
    public record Envelope(byte[] prefix, byte[] suffix) {

        public static Envelope of(final Secret apiKey, final int minIdLength) {
            final String key = new String(JsonStringEncoder.getInstance().quoteAsString(apiKey.reveal()));
            final String prefix = "{\"api_key\":\"" + key + "\",\"events\":[";
            final String suffix = "],\"options\":{\"min_id_length\":" + minIdLength + "}}";
            return new Envelope(prefix.getBytes(StandardCharsets.UTF_8), suffix.getBytes(StandardCharsets.UTF_8));
        }

        /** Bytes of a body with no events. */
        public int overhead() {
            return prefix.length + suffix.length;
        }

        /** The body with these events, comma-separated. */
        public byte[] body(final List<byte[]> events, final int size) {
            final byte[] body = new byte[size];
            int at = 0;
            System.arraycopy(prefix, 0, body, at, prefix.length);
            at += prefix.length;
            for (int i = 0; i < events.size(); i++) {
                if (i > 0) {
                    body[at++] = ',';
                }
                final byte[] event = events.get(i);
                System.arraycopy(event, 0, body, at, event.length);
                at += event.length;
            }
            System.arraycopy(suffix, 0, body, at, suffix.length);
            return body;
        }

        @Override
        public String toString() {
            return "Envelope(api_key ****)";
        }
    }
}
