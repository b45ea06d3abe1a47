package io.cohortsync.http;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.SyncType;
import io.cohortsync.config.CohortSyncConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AmplitudePayloadFileTest {

    private static final CohortSyncConfig CONFIG = CohortSyncConfig.of(Map.of("webhook.max-members-per-record", "2"),
        null);

    @TempDir
    Path dir;

    @Test
    void payloadsOnePerLineBecomeTheRequestsTheWebhookWouldProduce() throws IOException {
        final Path file = write("payloads.ndjson", payload("m-1", true, 3) + "\n" + payload("m-2", false, 1) + "\n");

        final List<CohortSyncRequest> requests = AmplitudePayloadFile.read(file, "demo", SyncType.HOURLY, CONFIG);

        assertThat(requests).extracting(CohortSyncRequest::getMessageId)
            .containsExactly("m-1|part-0", "m-1|part-1", "m-2");
        assertThat(requests).extracting(CohortSyncRequest::getOperation)
            .containsExactly(Operation.ADD, Operation.ADD, Operation.REMOVE);
        assertThat(requests).allSatisfy(request -> {
            assertThat(request.getAccountId()).isEqualTo("demo");
            assertThat(request.getSyncType()).isEqualTo(SyncType.HOURLY);
        });
        assertThat(requests.get(1).getMembers()).singleElement()
            .satisfies(member -> assertThat(member.getDeviceId()).isEqualTo("dev-2"));
    }

    @Test
    void aJsonArrayOfPrettyPrintedPayloadsIsReadToo() throws IOException {
        final Path file = write("payloads.json", "[\n  " + payload("m-1", true, 1) + ",\n  "
            + payload("m-2", true, 1) + "\n]\n");

        assertThat(AmplitudePayloadFile.read(file, "demo", SyncType.REAL_TIME, CONFIG))
            .extracting(CohortSyncRequest::getMessageId).containsExactly("m-1", "m-2");
    }

    @Test
    void theFirstBadPayloadFailsTheWholeFileNamingItsPlaceAndField() throws IOException {
        final Path badField = write("bad.ndjson", payload("m-1", true, 1) + "\n"
            + payload("m-2", true, 1).replace("\"in_cohort\": true", "\"in_cohort\": \"yes\"") + "\n");
        assertThatThrownBy(() -> AmplitudePayloadFile.read(badField, "demo", SyncType.REAL_TIME, CONFIG))
            .isInstanceOf(AmplitudePayloadFile.InvalidFileException.class)
            .hasMessageContaining("payload 1 (counting from 0), field in_cohort");

        final Path tooLong = write("long.ndjson", payload("m-" + "x".repeat(1100), true, 1));
        assertThatThrownBy(() -> AmplitudePayloadFile.read(tooLong, "demo", SyncType.REAL_TIME, CONFIG))
            .hasMessageContaining("field message_id");

        final Path tooLarge = write("large.ndjson", payload("m-1", true, 1).replace("\"user_properties\": {}",
            "\"user_properties\": {\"bio\": \"" + "b".repeat(10_000) + "\"}"));
        assertThatThrownBy(() -> AmplitudePayloadFile.read(tooLarge, "demo", SyncType.REAL_TIME,
            CohortSyncConfig.of(Map.of("ingest.max-record-bytes", "4096"), null)))
            .hasMessageContaining("payload 0").hasMessageContaining("over ingest.max-record-bytes (4096)");

        final Path notJson = write("broken.ndjson", payload("m-1", true, 1) + "\n{\"cohort_id\": ");
        assertThatThrownBy(() -> AmplitudePayloadFile.read(notJson, "demo", SyncType.REAL_TIME, CONFIG))
            .isInstanceOf(AmplitudePayloadFile.InvalidFileException.class).hasMessageContaining("as JSON");

        assertThatThrownBy(() -> AmplitudePayloadFile.read(write("empty.json", " \n"), "demo", SyncType.REAL_TIME,
            CONFIG)).hasMessageContaining("holds no payload");
        assertThatThrownBy(() -> AmplitudePayloadFile.read(dir.resolve("missing.json"), "demo", SyncType.REAL_TIME,
            CONFIG)).hasMessageContaining("no such file");
    }

    private Path write(final String name, final String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private static String payload(final String messageId, final boolean in, final int users) {
        final String members = IntStream.range(0, users)
            .mapToObj(i -> "{\"user_id\": null, \"device_id\": \"dev-" + i + "\", \"user_properties\": {}}")
            .collect(Collectors.joining(", "));
        return "{\"cohort_id\": \"c-file\", \"cohort_name\": \"From a file\", \"in_cohort\": " + in
            + ", \"computed_time\": \"1692206763\", \"message_id\": \"" + messageId + "\", \"users\": [" + members
            + "]}";
    }
}
