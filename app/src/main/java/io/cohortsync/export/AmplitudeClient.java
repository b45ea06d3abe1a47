package io.cohortsync.export;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Posts request bodies to Amplitude's upload endpoints with the JDK HTTP client. The body carries the API key, so
 * neither the body nor anything derived from it is ever logged; failures are described by exception type and
 * message only (which name the URL, never the body).
 */
public final class AmplitudeClient implements AmplitudeSink, AutoCloseable {

    private final Duration requestTimeout;
    private final ExecutorService executor;
    private final HttpClient http;

    public AmplitudeClient(final Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
        final AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(runnable -> {
            final Thread thread = new Thread(runnable, "amplitude-http-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.http = HttpClient.newBuilder()
            .connectTimeout(requestTimeout)
            .executor(executor)
            .build();
    }

    @Override
    public CompletableFuture<AmplitudeResponse> post(final URI url, final byte[] body, final int events) {
        final HttpRequest request = HttpRequest.newBuilder(url)
            .timeout(requestTimeout)
            // Amplitude's hosts speak HTTP/2 over TLS; plain http (the emulator, a local proxy) gets HTTP/1.1 without
            // an upgrade round trip.
            .version("https".equals(url.getScheme()) ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
            .header("Content-Type", "application/json")
            .header("Accept", "*/*")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
            .handle((response, error) -> error == null
                ? AmplitudeResponse.of(response.statusCode(), response.body())
                : failure(error));
    }

    private static AmplitudeResponse failure(final Throwable error) {
        final Throwable cause = error instanceof CompletionException && error.getCause() != null
            ? error.getCause() : error;
        return AmplitudeResponse.failed(cause, cause instanceof HttpTimeoutException);
    }

    /** Stops the client's threads; requests still in flight are abandoned (their answers are never read). */
    @Override
    public void close() {
        executor.shutdownNow();
    }
}
