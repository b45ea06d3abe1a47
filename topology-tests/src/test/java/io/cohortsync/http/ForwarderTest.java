package io.cohortsync.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ForwarderTest {

    private HttpServer owner;
    private HostInfo ownerHost;

    @BeforeEach
    void start() throws IOException {
        owner = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        owner.createContext("/refused", exchange -> answer(exchange, 401, "{\"error\": \"wrong token\"}"));
        owner.createContext("/missing", exchange -> answer(exchange, 404,
            "{\"error\": \"no profile 'p1'\", \"field\": \"objectId\"}"));
        owner.start();
        ownerHost = new HostInfo("127.0.0.1", owner.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        owner.stop(0);
    }

    /** The caller's token was good here; the owner's refusal means the instances disagree, a 503 to retry. */
    @Test
    void theOwnersRefusalOfThisInstancesTokenIsA503NotTheCallers401() {
        final HttpError error = catchThrowableOfType(HttpError.class,
            () -> new Forwarder(Optional.of("t1"), Duration.ofSeconds(5)).get(ownerHost, "/refused"));

        assertThat(error.status()).isEqualTo(503);
        assertThat(error.getMessage()).contains("refused this instance's http.token");
    }

    @Test
    void theOwnersOtherErrorsArePassedOnAsTheyAre() {
        final HttpError error = catchThrowableOfType(HttpError.class,
            () -> new Forwarder(Optional.of("t1"), Duration.ofSeconds(5)).get(ownerHost, "/missing"));

        assertThat(error.status()).isEqualTo(404);
        assertThat(error.getMessage()).isEqualTo("no profile 'p1'");
    }

    private static void answer(final HttpExchange exchange, final int status,
                               final String body) throws IOException {
        final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
