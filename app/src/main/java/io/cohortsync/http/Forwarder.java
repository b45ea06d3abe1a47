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
import java.nio.charset.StandardCharsets;
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
    /** RFC 3986's unreserved and reserved characters: a path and query may hold them unescaped. */
    private static final String URI_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        + "-._~!$&'()*+,;=:@/?";
    private static final String HEX = "0123456789ABCDEF";

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
        final HttpRequest.Builder request = HttpRequest.newBuilder(uriOf(host, pathAndQuery))
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

    /**
     * The other instance's URI for a path and query as this one received them. The HTTP server lets through
     * characters a URI may not hold ({@code |} in an objectId or a members cursor, {@code ^}, non-ASCII), so those
     * are percent-encoded; escapes already there, and every character a URI allows, are kept as they are.
     */
    private static URI uriOf(final HostInfo host, final String pathAndQuery) {
        final byte[] raw = pathAndQuery.getBytes(StandardCharsets.UTF_8);
        final StringBuilder uri = new StringBuilder("http://" + host.host() + ":" + host.port());
        for (int i = 0; i < raw.length; i++) {
            final int c = raw[i] & 0xff;
            if (c < 0x80 && URI_CHARACTERS.indexOf(c) >= 0 || c == '%' && isEscape(raw, i)) {
                uri.append((char) c);
            } else {
                uri.append('%').append(HEX.charAt(c >> 4)).append(HEX.charAt(c & 0xf));
            }
        }
        return URI.create(uri.toString());
    }

    private static boolean isEscape(final byte[] raw, final int percent) {
        return percent + 2 < raw.length && Character.digit(raw[percent + 1], 16) >= 0
            && Character.digit(raw[percent + 2], 16) >= 0;
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
        if (response.statusCode() == 401) {
            // This instance accepted the caller's token, so the other one holds another http.token: a deployment
            // fault (a token rotation under way, say), not the caller's.
            throw HttpError.unavailable("instance " + describe(host) + ", which owns this data, refused this "
                + "instance's http.token: every instance must have the same one; retry shortly");
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
