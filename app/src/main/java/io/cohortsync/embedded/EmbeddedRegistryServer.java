package io.cohortsync.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.serde.UnknownSchemaException;
import io.cohortsync.serde.UnknownSchemaIdException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves the embedded mode's in-memory ({@code mock://}) registry over the Confluent Schema Registry REST API on
 * 127.0.0.1, so that other processes (the CLI's produce and inspect commands, a newcomer's own clients) share the
 * running service's schemas. Only the calls a serde needs: register, look up, fetch by id, list subjects.
 */
public final class EmbeddedRegistryServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRegistryServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private final HttpServer server;
    private final ExecutorService executor;
    private final MockSchemaRegistry registry;

    private EmbeddedRegistryServer(final HttpServer server, final ExecutorService executor,
                                   final MockSchemaRegistry registry) {
        this.server = server;
        this.executor = executor;
        this.registry = registry;
    }

    public static EmbeddedRegistryServer start(final String mockScope, final int port) throws IOException {
        final HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        final ExecutorService executor = Executors.newFixedThreadPool(2, runnable -> {
            final Thread thread = new Thread(runnable, "embedded-registry");
            thread.setDaemon(true);
            return thread;
        });
        final EmbeddedRegistryServer registryServer =
            new EmbeddedRegistryServer(server, executor, MockSchemaRegistry.scope(mockScope));
        server.createContext("/", registryServer::handle);
        server.setExecutor(executor);
        server.start();
        LOG.info("Embedded schema registry (in-memory, Confluent REST API) at {}", registryServer.url());
        return registryServer;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        // HttpServer.stop leaves an executor given to it running, and a fixed pool's threads never time out.
        executor.shutdownNow();
    }

    private void handle(final HttpExchange exchange) throws IOException {
        try (exchange) {
            final String[] path = exchange.getRequestURI().getPath().replaceAll("^/+|/+$", "").split("/");
            final String method = exchange.getRequestMethod();
            if (path.length == 3 && path[0].equals("schemas") && path[1].equals("ids") && method.equals("GET")) {
                schemaById(exchange, path[2]);
            } else if (path.length == 1 && path[0].equals("subjects") && method.equals("GET")) {
                respond(exchange, 200, registry.subjects());
            } else if (path.length == 3 && path[0].equals("subjects") && path[2].equals("versions")
                && method.equals("POST")) {
                final Schema schema = readSchema(exchange);
                respond(exchange, 200, Map.of("id", registry.register(decode(path[1]), schema)));
            } else if (path.length == 2 && path[0].equals("subjects") && method.equals("POST")) {
                lookup(exchange, decode(path[1]));
            } else {
                error(exchange, 404, 404, "endpoint not served by the embedded registry: " + method + " "
                    + exchange.getRequestURI().getPath());
            }
        } catch (final SchemaParseException | IllegalArgumentException e) {
            error(exchange, 422, 42201, "invalid schema: " + e.getMessage());
        }
    }

    private void schemaById(final HttpExchange exchange, final String rawId) throws IOException {
        try {
            final Schema schema = registry.schemaById(Integer.parseInt(rawId));
            respond(exchange, 200, Map.of("schema", schema.toString()));
        } catch (final UnknownSchemaIdException | NumberFormatException e) {
            error(exchange, 404, 40403, "Schema " + rawId + " not found");
        }
    }

    private void lookup(final HttpExchange exchange, final String subject) throws IOException {
        final Schema schema = readSchema(exchange);
        try {
            final int id = registry.lookupId(subject, schema);
            respond(exchange, 200, Map.of("subject", subject, "id", id, "version", 1, "schema", schema.toString()));
        } catch (final UnknownSchemaException e) {
            error(exchange, 404, 40403, "Schema not found under subject " + subject);
        }
    }

    private static Schema readSchema(final HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            final JsonNode body = JSON.readTree(in);
            if (body == null || !body.hasNonNull("schema")) {
                throw new IllegalArgumentException("request body needs a 'schema' field");
            }
            return new Schema.Parser().parse(body.get("schema").asText());
        }
    }

    private static String decode(final String segment) {
        return URLDecoder.decode(segment, StandardCharsets.UTF_8);
    }

    private static void error(final HttpExchange exchange, final int status, final int code, final String message)
        throws IOException {
        respond(exchange, status, Map.of("error_code", code, "message", message));
    }

    private static void respond(final HttpExchange exchange, final int status, final Object body) throws IOException {
        final byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
