package io.cohortsync.serde;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.AvroRuntimeException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Confluent Schema Registry REST client on the JDK HTTP client. Uncached: wrap it in
 * {@link CachingSchemaRegistryClient}. Credentials go only into the {@code Authorization} header; request URIs
 * are built from the redacted URLs, so no message, log line or exception cause can contain them.
 */
final class RestSchemaRegistryClient implements SchemaRegistryClient {

    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final String ACCEPT =
            "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5";
    private static final int NOT_FOUND = 404;
    private static final int SUBJECT_NOT_FOUND = 40401;
    private static final int VERSION_NOT_FOUND = 40402;
    private static final int SCHEMA_NOT_FOUND = 40403;
    private static final int MAX_BODY_IN_MESSAGE = 300;
    private static final int ROUNDS = 3;
    private static final Duration RETRY_WAIT = Duration.ofMillis(100);
    private static final Logger LOG = LoggerFactory.getLogger(RestSchemaRegistryClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Turns a 4xx the caller has a specific exception for into it; null for the generic one. */
    @FunctionalInterface
    private interface ErrorMapper {
        SerializationException map(int status, RegistryError error);
    }

    private record RegistryError(int errorCode, String message) {
    }

    /** One URL did not answer usefully; the next one is tried. */
    private static final class Unreachable extends Exception {
        /** The HTTP status when the registry refused the configuration (see below); 0 for an outage. */
        private final int refusedStatus;

        Unreachable(final String reason, final Throwable cause) {
            this(reason, cause, 0);
        }

        Unreachable(final String reason, final Throwable cause, final int refusedStatus) {
            super(reason, cause, false, false);
            this.refusedStatus = refusedStatus;
        }
    }

    private final SchemaRegistryConfig config;
    private final HttpClient http;
    // Start with the URL that answered last, so a dead first URL costs one timeout, not one per call.
    private final AtomicInteger preferredUrl = new AtomicInteger();

    RestSchemaRegistryClient(final SchemaRegistryConfig config) {
        this.config = config;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.connectTimeout())
                // Never follow redirects: that could carry the Authorization header to another host.
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    @Override
    public int register(final String subject, final Schema schema) {
        final JsonNode answer = call("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema),
                (status, error) -> null);
        return requireId(answer, "register under subject '" + subject + "'");
    }

    @Override
    public int lookupId(final String subject, final Schema schema) {
        final JsonNode answer = call("POST", "/subjects/" + encode(subject), schemaBody(schema),
                (status, error) -> status == NOT_FOUND
                        ? new UnknownSchemaException(subject, "Schema " + schema.getFullName()
                                + " is not registered under subject '" + subject + "': " + error.message()
                                + " (error " + error.errorCode() + ')')
                        : null);
        return requireId(answer, "look up under subject '" + subject + "'");
    }

    @Override
    public Schema schemaById(final int id) {
        final JsonNode answer = call("GET", "/schemas/ids/" + id, null,
                (status, error) -> status == NOT_FOUND
                        ? new UnknownSchemaIdException(id, error.message() + " (error " + error.errorCode() + ')')
                        : null);
        return parseSchema(id, answer);
    }

    @Override
    public String toString() {
        return "RestSchemaRegistryClient" + config.urls();
    }

    /**
     * Like Confluent's client, a call the registry answered with a 5xx, 408 or 429 on every URL is tried again twice,
     * after 100 and 200 ms, so a blip costs a moment instead of a failed record or stream thread. A connection that
     * failed or timed out is not retried here: that is an outage, and the caller's retry spaces the attempts out.
     */
    private JsonNode call(final String method, final String path, final String body, final ErrorMapper errors) {
        for (int round = 1; ; round++) {
            try {
                return callEveryUrl(method, path, body, errors);
            } catch (final SchemaRegistryUnavailableException e) {
                final boolean answered = e.getCause() == null && !(e instanceof SchemaRegistryRefusedException);
                if (!answered || round == ROUNDS) {
                    throw e;
                }
                pause(RETRY_WAIT.multipliedBy(1L << (round - 1)));
            }
        }
    }

    private static void pause(final Duration wait) {
        try {
            Thread.sleep(wait.toMillis());
        } catch (final InterruptedException e) {
            throw new InterruptException("Interrupted while waiting to call the schema registry again", e);
        }
    }

    private JsonNode callEveryUrl(final String method, final String path, final String body,
            final ErrorMapper errors) {
        final List<String> urls = config.rawUrls();
        final int first = Math.floorMod(preferredUrl.get(), urls.size());
        final List<String> failures = new ArrayList<>();
        Unreachable last = null;
        boolean allRefused = true;
        for (int i = 0; i < urls.size(); i++) {
            final int index = (first + i) % urls.size();
            try {
                final JsonNode answer = attempt(urls.get(index), method, path, body, errors);
                preferredUrl.set(index);
                return answer;
            } catch (final Unreachable e) {
                last = e;
                allRefused &= e.refusedStatus != 0;
                failures.add(Urls.redact(urls.get(index)) + " (" + e.getMessage() + ')');
                LOG.warn("Schema registry {} {}{} failed: {}", method, Urls.redact(urls.get(index)), path, e.getMessage());
            }
        }
        final String tried = String.join(",", config.urls());
        if (allRefused && last != null) {
            throw new SchemaRegistryRefusedException(tried, last.refusedStatus, "Schema registry refused "
                    + method + ' ' + path + " on every URL; check the registry settings: " + String.join("; ", failures));
        }
        throw new SchemaRegistryUnavailableException(tried,
                "Schema registry unavailable: " + method + ' ' + path + " failed on every URL: "
                        + String.join("; ", failures), last == null ? null : last.getCause());
    }

    private JsonNode attempt(final String rawUrl, final String method, final String path, final String body,
            final ErrorMapper errors) throws Unreachable {
        final HttpResponse<String> response = send(rawUrl, method, path, body);
        final int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return parseJson(status, response.body());
        }
        final RegistryError error = parseError(status, response.body());
        if (status >= 500 || status == 408 || status == 429) {
            throw new Unreachable("HTTP " + status + ", error " + error.errorCode() + ": " + error.message(), null);
        }
        final String refusal = refusal(status, error, response);
        if (refusal != null) {
            throw new Unreachable("HTTP " + status + ": " + refusal, null, status);
        }
        final SerializationException specific = errors.map(status, error);
        throw specific != null ? specific : new SchemaRegistryException(status, error.errorCode(),
                "Schema registry rejected " + method + ' ' + Urls.redact(rawUrl) + path + ": HTTP " + status
                        + ", error " + error.errorCode() + ": " + error.message());
    }

    /**
     * Why an answer says the configuration, not the record, is wrong; null when it does not. A 404 is the registry's
     * own "not found" only with its error code (40401, 40402, 40403); without one, the URL is not its API root.
     */
    private static String refusal(final int status, final RegistryError error, final HttpResponse<String> response) {
        if (status == 401 || status == 403) {
            return "the registry refused the credentials (basic.auth.user.info or the URL's user:password): "
                    + error.message();
        }
        if (status >= 300 && status < 400) {
            return "redirected to " + Urls.redact(response.headers().firstValue("Location").orElse("(no Location)"))
                    + ", which is not followed; set schema.registry.url to the final URL";
        }
        if (status == NOT_FOUND && error.errorCode() != SUBJECT_NOT_FOUND && error.errorCode() != VERSION_NOT_FOUND
                && error.errorCode() != SCHEMA_NOT_FOUND) {
            return "not found and no registry error code: is the URL the Confluent API's root (for Apicurio, "
                    + "https://host/apis/ccompat/v7)? " + error.message();
        }
        return null;
    }

    private HttpResponse<String> send(final String rawUrl, final String method, final String path, final String body)
            throws Unreachable {
        final HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(Urls.redact(rawUrl) + path))
                .timeout(config.requestTimeout())
                .header("Accept", ACCEPT)
                .method(method, body == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) {
            request.header("Content-Type", CONTENT_TYPE);
        }
        config.authorizationHeader(rawUrl).ifPresent(value -> request.header("Authorization", value));
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (final IOException e) {
            // Connection refused, reset, DNS failure, connect or request timeout: all mean "try later/elsewhere".
            throw new Unreachable(e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()), e);
        } catch (final InterruptedException e) {
            throw new InterruptException("Interrupted while calling the schema registry", e);
        }
    }

    private static String schemaBody(final Schema schema) {
        try {
            // Confluent's API treats a missing schemaType as AVRO; older registries reject the field.
            return JSON.writeValueAsString(Map.of("schema", schema.toString()));
        } catch (final JsonProcessingException e) {
            throw new SerializationException("Could not encode schema " + schema.getFullName() + " as JSON", e);
        }
    }

    private static JsonNode parseJson(final int status, final String body) {
        try {
            return JSON.readTree(body);
        } catch (final JsonProcessingException e) {
            throw new SchemaRegistryException(status, status, "Schema registry answered HTTP " + status
                    + " with a body that is not JSON: " + abbreviate(body));
        }
    }

    private static RegistryError parseError(final int status, final String body) {
        try {
            final JsonNode json = JSON.readTree(body);
            if (json != null && json.isObject()) {
                return new RegistryError(json.path("error_code").asInt(status),
                        json.path("message").asText(abbreviate(body)));
            }
        } catch (final JsonProcessingException e) {
            // A proxy's HTML error page, for instance: fall through and quote it.
        }
        return new RegistryError(status, abbreviate(body));
    }

    private static int requireId(final JsonNode answer, final String what) {
        final JsonNode id = answer.get("id");
        if (id == null || !id.canConvertToInt()) {
            throw new SchemaRegistryException(200, -1, "Schema registry answer to " + what + " has no integer id: "
                    + abbreviate(answer.toString()));
        }
        return id.intValue();
    }

    private static Schema parseSchema(final int id, final JsonNode answer) {
        final String type = answer.path("schemaType").asText("AVRO");
        if (!"AVRO".equalsIgnoreCase(type)) {
            throw new SchemaRegistryException(200, -1, "Schema id " + id + " is a " + type + " schema, not Avro");
        }
        final JsonNode text = answer.get("schema");
        if (text == null || !text.isTextual()) {
            throw new SchemaRegistryException(200, -1, "Schema registry answer for schema id " + id
                    + " has no schema: " + abbreviate(answer.toString()));
        }
        try {
            // Like Confluent's client, which does not validate defaults either: Confluent's registry accepts a schema
            // whose default does not match its type, and records written with it must still be readable.
            return new Schema.Parser().setValidateDefaults(false).parse(text.asText());
        } catch (final AvroRuntimeException e) {
            final boolean hasReferences = answer.path("references").size() > 0;
            throw new SchemaRegistryException(200, -1, "Schema id " + id + " is not a valid Avro schema"
                    + (hasReferences ? " (it uses schema references, which this client does not resolve)" : "")
                    + ": " + e.getMessage());
        }
    }

    private static String encode(final String subject) {
        return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String abbreviate(final String body) {
        final String text = body == null ? "" : body.strip();
        return text.length() <= MAX_BODY_IN_MESSAGE ? text : text.substring(0, MAX_BODY_IN_MESSAGE) + "...";
    }
}
