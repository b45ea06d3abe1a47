package io.cohortsync.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;
import org.apache.kafka.streams.state.HostInfo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Asks another instance (at its {@code application.server}) for data it owns. The request carries the hop header,
 * so the other instance answers from its own state only and never forwards again; and the query token, if any.
 * An instance that does not answer is a retryable 503: a rebalance is usually moving its data.
 */
final class Forwarder {

    /** Internal: "answer from your local state only". */
    static final String HOP_HEADER = "X-Cohort-Sync-Hop";

    private final HttpClient client;
    private final Optional<String> token;
    private final Duration timeout;

    Forwarder(final Optional<String> token, final Duration timeout) {
        this.client = HttpClient.newBuilder().connectTimeout(timeout).version(HttpClient.Version.HTTP_1_1).build();
        this.token = token;
        this.timeout = timeout;
    }

    static boolean isHop(final Context ctx) {
        return ctx.header(HOP_HEADER) != null;
    }

    JsonNode get(final HostInfo host, final String pathAndQuery) {
        try {
            return getAsync(host, pathAndQuery).join();
        } catch (final CompletionException e) {
            throw e.getCause() instanceof HttpError error ? error : HttpError.unavailable(String.valueOf(e.getCause()));
        }
    }

    /** The other instance's JSON answer; its error (with the same status) if it did not answer 200. */
    CompletableFuture<JsonNode> getAsync(final HostInfo host, final String pathAndQuery) {
        final HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + host.host() + ":"
                + host.port() + pathAndQuery))
            .timeout(timeout)
            .header(HOP_HEADER, "1")
            .header("Accept", Json.CONTENT_TYPE)
            .GET();
        token.ifPresent(value -> request.header("Authorization", "Bearer " + value));
        return client.sendAsync(request.build(), HttpResponse.BodyHandlers.ofByteArray())
            .handle((response, failure) -> {
                if (failure != null) {
                    throw unreachable(host, failure);
                }
                return answer(host, response);
            });
    }

    private static JsonNode answer(final HostInfo host, final HttpResponse<byte[]> response) {
        final JsonNode body;
        try {
            body = Json.read(response.body());
        } catch (final IOException e) {
            throw HttpError.unavailable("instance " + describe(host) + " answered " + response.statusCode()
                + " with a body that is not JSON; retry shortly");
        }
        if (response.statusCode() == 200) {
            return body;
        }
        final String message = body.path("error").asText("status " + response.statusCode());
        final String field = body.hasNonNull("field") ? body.get("field").asText() : null;
        throw new HttpError(response.statusCode(), message, field);
    }

    private static HttpError unreachable(final HostInfo host, final Throwable failure) {
        final Throwable cause = failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause() : failure;
        final String why = cause instanceof HttpTimeoutException ? "did not answer in time" : "could not be reached ("
            + cause.getClass().getSimpleName() + ")";
        return HttpError.unavailable("instance " + describe(host) + ", which owns this data, " + why
            + "; retry shortly");
    }

    private static String describe(final HostInfo host) {
        return host.host() + ":" + host.port();
    }
}
