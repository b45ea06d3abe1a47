package io.cohortsync.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.cohortsync.serde.MockSchemaRegistry;
import org.apache.avro.Schema;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Confluent REST calls a serde makes (register, schema by id), over HTTP on 127.0.0.1, backed by a
 * {@link MockSchemaRegistry} scope so the test's {@code mock://} serdes see the same schemas. Registrations under one
 * subject are answered 503 until {@link #recover()}: a serializer using it throws
 * {@link io.cohortsync.serde.SchemaRegistryUnavailableException} until then, and works after.
 */
final class FlakyRegistry implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final MockSchemaRegistry registry;
    private final String flakySubject;
    private final AtomicBoolean down = new AtomicBoolean(true);
    private final AtomicInteger refused = new AtomicInteger();

    private FlakyRegistry(final String scope, final String flakySubject) throws IOException {
        this.registry = MockSchemaRegistry.scope(scope);
        this.flakySubject = flakySubject;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    /** Answers registrations under {@code flakySubject} with 503 until {@link #recover()}. */
    static FlakyRegistry start(final String scope, final String flakySubject) throws IOException {
        return new FlakyRegistry(scope, flakySubject);
    }

    void recover() {
        down.set(false);
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Registrations answered 503 so far. */
    int refused() {
        return refused.get();
    }

    private void handle(final HttpExchange exchange) throws IOException {
        try (exchange) {
            final String path = exchange.getRequestURI().getPath();
            final String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            if (path.startsWith("/schemas/ids/")) {
                final Schema schema = registry.schemaById(Integer.parseInt(path.substring("/schemas/ids/".length())));
                answer(exchange, 200, Map.of("schema", schema.toString()));
            } else if (path.startsWith("/subjects/") && path.endsWith("/versions")) {
                register(exchange, path.substring("/subjects/".length(), path.length() - "/versions".length()), body);
            } else {
                answer(exchange, 404, Map.of("error_code", 40401, "message", "not served by this fake: " + path));
            }
        }
    }

    private void register(final HttpExchange exchange, final String subject, final String body) throws IOException {
        if (subject.equals(flakySubject) && down.get()) {
            refused.incrementAndGet();
            answer(exchange, 503, Map.of("error_code", 50301, "message", "the registry is down (scripted)"));
            return;
        }
        final Schema schema = new Schema.Parser().parse(JSON.readTree(body).get("schema").asText());
        answer(exchange, 200, Map.of("id", registry.register(subject, schema)));
    }

    private static void answer(final HttpExchange exchange, final int status, final Map<String, Object> json) {
        try {
            final byte[] bytes = JSON.writeValueAsBytes(json);
            exchange.getResponseHeaders().set("Content-Type", "application/vnd.schemaregistry.v1+json");
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
