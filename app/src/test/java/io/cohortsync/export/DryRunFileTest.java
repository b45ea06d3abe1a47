package io.cohortsync.export;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The dry-run file keeps every request of a short run, and a bounded tail of a long one. */
class DryRunFileTest {

    private static final URI URL = URI.create("https://api2.amplitude.com/2/httpapi");
    private static final long MAX_BYTES = 1_000;

    @TempDir
    Path dir;

    @Test
    void aLongDryRunRollsOverToOnePreviousFileSoItsDiskUseIsBounded() throws IOException {
        final Path file = dir.resolve("amplitude-requests.ndjson");
        try (DryRunFile dryRun = DryRunFile.open(file, MAX_BYTES)) {
            final AmplitudeSink sink = dryRun.forAccount("demo");
            for (int request = 0; request < 200; request++) {
                assertThat(sink.post(URL, body(request), 1).join().status()).isEqualTo(200);
            }
        }

        final Path previous = dir.resolve("amplitude-requests.ndjson.1");
        assertThat(Files.size(file)).isPositive().isLessThanOrEqualTo(MAX_BYTES);
        assertThat(Files.size(previous)).isLessThanOrEqualTo(MAX_BYTES);
        try (var files = Files.list(dir)) {
            assertThat(files.map(path -> path.getFileName().toString()))
                .containsExactlyInAnyOrder("amplitude-requests.ndjson", "amplitude-requests.ndjson.1");
        }
        final List<String> kept = new ArrayList<>(Files.readAllLines(previous, StandardCharsets.UTF_8));
        kept.addAll(Files.readAllLines(file, StandardCharsets.UTF_8));
        assertThat(kept).allSatisfy(line -> assertThat(line).startsWith("{\"account\":\"demo\"").endsWith("}}"));
        assertThat(kept.get(kept.size() - 1)).contains("\"request\":199}");
        final int first = kept.size() - 1;
        for (int line = 0; line < kept.size(); line++) {
            final int request = 199 - first + line;
            assertThat(kept.get(line)).as("the newest requests, in order").contains("\"request\":" + request + "}");
        }
    }

    @Test
    void aRestartAppendsAndCountsWhatTheFileAlreadyHolds() throws IOException {
        final Path file = dir.resolve("requests.ndjson");
        try (DryRunFile dryRun = DryRunFile.open(file, MAX_BYTES)) {
            dryRun.forAccount("demo").post(URL, body(0), 1).join();
        }
        final long afterOne = Files.size(file);
        final int fitting = (int) (MAX_BYTES / afterOne);

        try (DryRunFile dryRun = DryRunFile.open(file, MAX_BYTES)) {
            for (int request = 1; request < fitting; request++) {
                dryRun.forAccount("demo").post(URL, body(request), 1).join();
            }
            assertThat(Files.exists(dir.resolve("requests.ndjson.1"))).isFalse();
            dryRun.forAccount("demo").post(URL, body(fitting), 1).join();
        }

        assertThat(Files.readAllLines(dir.resolve("requests.ndjson.1"), StandardCharsets.UTF_8)).hasSize(fitting);
        assertThat(Files.readAllLines(file, StandardCharsets.UTF_8)).singleElement().asString()
            .contains("\"request\":" + fitting + "}");
    }

    private static byte[] body(final int request) {
        return ("{\"api_key\":\"\",\"events\":[{\"event_type\":\"Partner Sync\",\"request\":" + request + "}]}")
            .getBytes(StandardCharsets.UTF_8);
    }
}
