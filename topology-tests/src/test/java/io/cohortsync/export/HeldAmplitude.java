package io.cohortsync.export;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An Amplitude that holds every request until the test lets it answer: the first one 401 (the key is refused), every
 * later one 503. So a test can have several requests of one account in flight and decide the order of their answers.
 */
final class HeldAmplitude implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(runnable -> {
        final Thread thread = new Thread(runnable, "held-amplitude");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicInteger requests = new AtomicInteger();
    private final CompletableFuture<Void> refuseFirst = new CompletableFuture<>();
    private final CompletableFuture<Void> failOthers = new CompletableFuture<>();

    private HeldAmplitude() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    static HeldAmplitude start() throws IOException {
        return new HeldAmplitude();
    }

    URI baseUrl() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Requests received so far, answered or not. */
    int requests() {
        return requests.get();
    }

    /** Lets the first request be answered 401. */
    void refuseFirst() {
        refuseFirst.complete(null);
    }

    /** Lets every later request be answered 503. */
    void failOthers() {
        failOthers.complete(null);
    }

    private void handle(final HttpExchange exchange) throws IOException {
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            final boolean first = requests.getAndIncrement() == 0;
            (first ? refuseFirst : failOthers).join();
            final byte[] body = (first ? "{\"code\":401,\"error\":\"Invalid API key\"}"
                : "{\"code\":503,\"error\":\"Service Unavailable\"}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(first ? 401 : 503, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    @Override
    public void close() {
        refuseFirst.complete(null);
        failOthers.complete(null);
        server.stop(0);
        executor.shutdownNow();
    }
}
