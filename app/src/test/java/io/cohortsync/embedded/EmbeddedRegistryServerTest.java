package io.cohortsync.embedded;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class EmbeddedRegistryServerTest {

    @Test
    void closeEndsTheThreadsThatServedRequests() throws IOException, InterruptedException {
        final Set<Thread> before = registryThreads();
        final EmbeddedRegistryServer server = EmbeddedRegistryServer.start("registry-threads-" + UUID.randomUUID(), 0);
        final HttpResponse<String> subjects = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create(server.url() + "/subjects")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(subjects.statusCode()).isEqualTo(200);
        final Set<Thread> serving = registryThreads();
        serving.removeAll(before);
        assertThat(serving).as("threads the request ran on").isNotEmpty();

        server.close();

        // A fixed pool's threads never time out: unless close ends them, every start in a JVM leaves two behind.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(serving).noneMatch(Thread::isAlive));
    }

    private static Set<Thread> registryThreads() {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(thread -> thread.getName().startsWith("embedded-registry"))
            .collect(Collectors.toSet());
    }
}
