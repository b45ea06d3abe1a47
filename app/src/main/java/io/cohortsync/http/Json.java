package io.cohortsync.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** One Jackson mapper for every JSON body the HTTP face reads or writes. */
final class Json {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final String CONTENT_TYPE = "application/json";

    /**
     * For request bodies: a key given twice ({@code "in_cohort": false, ..., "in_cohort": true}) and anything after
     * the JSON value are errors. Jackson's defaults keep the last duplicate and ignore what follows, which would
     * turn an ambiguous or damaged body into a batch nobody sent.
     */
    private static final ObjectReader REQUEST_READER = MAPPER.reader()
        .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        // Numbers become property strings: read as decimals, with their scale, so 1.10 is not the double 1.1.
        .with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .without(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES);

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

    /** A request body already decoded to text; empty content is a missing node. */
    static JsonNode readRequest(final Reader body) throws IOException {
        return REQUEST_READER.readTree(body);
    }

    /** Each JSON value of a file of request bodies: a JSON array's elements, or values one after another. */
    static MappingIterator<JsonNode> readRequests(final Reader values) throws IOException {
        return REQUEST_READER.forType(JsonNode.class).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .readValues(values);
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
