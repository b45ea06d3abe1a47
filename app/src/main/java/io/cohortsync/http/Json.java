package io.cohortsync.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** One Jackson mapper for every JSON body the HTTP face reads or writes. */
final class Json {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final String CONTENT_TYPE = "application/json";

    private Json() {
    }

    static void write(final Context ctx, final int status, final Object body) {
        ctx.status(status).contentType(CONTENT_TYPE).result(bytes(body));
    }

    static byte[] bytes(final Object body) {
        try {
            return MAPPER.writeValueAsBytes(body);
        } catch (final JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(final byte[] body) throws IOException {
        return MAPPER.readTree(body);
    }

    static JsonNode tree(final Object value) {
        return MAPPER.valueToTree(value);
    }

    static Map<String, Object> error(final HttpError error) {
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error.getMessage());
        if (error.field() != null) {
            body.put("field", error.field());
        }
        if (error.retryable()) {
            body.put("retryable", true);
        }
        return body;
    }
}
