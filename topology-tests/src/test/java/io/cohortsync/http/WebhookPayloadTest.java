package io.cohortsync.http;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.SyncType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Amplitude's payload to CohortSyncRequests: the mapping, the field-naming errors, and the deterministic split. */
class WebhookPayloadTest {

    @Test
    void theDefaultPayloadMapsToOneRequest() {
        final WebhookBatch batch = parse("""
            {"cohort_name": "Cart Drop off", "cohort_id": "1638361188", "in_cohort": false,
             "computed_time": "1692206763", "message_id": "m-1",
             "users": [{"user_id": "u1", "device_id": "d1", "amplitude_id": 12345,
                        "user_properties": {"CleverTap_Identity": "Clevertap1", "visits": 3, "vip": true,
                                            "tags": ["a", "b"], "gone": null, "price": 1.10, "score": 1e2,
                                            "big": 12345678901234567890.5, "ratios": [0.50],
                                            "huge": 1e999999999}},
                       {"user_id": null, "user_properties": null}]}
            """);

        assertThat(batch.operation()).isEqualTo(Operation.REMOVE);
        assertThat(batch.computedAtMs()).isEqualTo(1_692_206_763_000L);
        assertThat(batch.key()).isEqualTo("demo|1638361188");
        final List<CohortSyncRequest> records = batch.records(1000, 8_388_608);
        assertThat(records).singleElement().satisfies(request -> {
            assertThat(request.getMessageId()).isEqualTo("m-1");
            assertThat(request.getCohortName()).isEqualTo("Cart Drop off");
            assertThat(request.getSyncType()).isEqualTo(SyncType.REAL_TIME);
        });
        final Member first = records.get(0).getMembers().get(0);
        assertThat(first.getUserId()).isEqualTo("u1");
        assertThat(first.getDeviceId()).isEqualTo("d1");
        assertThat(first.getAmplitudeId()).isEqualTo("12345");
        assertThat(first.getUserProperties()).isEqualTo(Map.of("CleverTap_Identity", "Clevertap1", "visits", "3",
            "vip", "true", "tags", "[\"a\",\"b\"]", "price", "1.10", "score", "100",
            "big", "12345678901234567890.5", "ratios", "[0.50]", "huge", "1E+999999999"));
        assertThat(records.get(0).getMembers().get(1).getUserProperties()).isEmpty();
    }

    @Test
    void aLargeBatchSplitsIntoRecordsWithDeterministicIds() {
        final StringBuilder users = new StringBuilder();
        for (int i = 0; i < 2501; i++) {
            users.append(i == 0 ? "" : ",").append("{\"user_id\": \"u").append(i).append("\"}");
        }
        final WebhookBatch batch = parse("{\"cohort_id\": \"c\", \"in_cohort\": true, \"computed_time\": 1692206763.5,"
            + " \"message_id\": \"m\", \"users\": [" + users + "]}");

        final List<CohortSyncRequest> records = batch.records(1000, 8_388_608);

        assertThat(batch.computedAtMs()).isEqualTo(1_692_206_763_500L);
        assertThat(records).extracting(CohortSyncRequest::getMessageId)
            .containsExactly("m|part-0", "m|part-1", "m|part-2");
        assertThat(records).extracting(r -> r.getMembers().size()).containsExactly(1000, 1000, 501);
        assertThat(records.get(2).getMembers().get(500).getUserId()).isEqualTo("u2500");
        assertThat(batch.records(1000, 8_388_608)).isEqualTo(records);
    }

    /** Long properties: the parts are cut by size too, so each fits ingest.max-record-bytes however few users. */
    @Test
    void aBatchOfLargeUsersSplitsIntoRecordsThatFitTheRecordLimit() throws Exception {
        final StringBuilder users = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            users.append(i == 0 ? "" : ",").append("{\"user_id\": \"u").append(i)
                .append("\", \"user_properties\": {\"bio\": \"").append("é".repeat(400 + i)).append("\"}}");
        }
        final WebhookBatch batch = parse("{\"cohort_id\": \"c\", \"in_cohort\": true, \"computed_time\": 1692206763,"
            + " \"message_id\": \"m\", \"users\": [" + users + "]}");

        final List<CohortSyncRequest> records = batch.records(1000, 10_000);

        assertThat(records).hasSizeGreaterThan(4);
        assertThat(records).extracting(CohortSyncRequest::getMessageId).startsWith("m|part-0", "m|part-1");
        for (final CohortSyncRequest record : records) {
            assertThat(record.toByteBuffer().remaining()).as(record.getMessageId()).isLessThanOrEqualTo(10_000);
        }
        assertThat(records.stream().flatMap(r -> r.getMembers().stream()).map(Member::getUserId))
            .containsExactlyElementsOf(IntStream.range(0, 40).mapToObj(i -> "u" + i).toList());
        assertThat(batch.records(1000, 10_000)).isEqualTo(records);
    }

    @Test
    void eachProblemNamesItsField() {
        assertProblem("{\"cohort_id\": \"c\"", null);
        assertProblem("[1, 2]", null);
        assertProblem("{\"in_cohort\": true, \"computed_time\": \"1\", \"message_id\": \"m\", \"users\": []}",
            "cohort_id");
        assertProblem("{\"cohort_id\": 7, \"in_cohort\": true, \"computed_time\": \"1\", \"message_id\": \"m\", "
            + "\"users\": []}", "cohort_id");
        assertProblem("{\"cohort_id\": \"a|b\", \"in_cohort\": true, \"computed_time\": \"1\", \"message_id\": \"m\","
            + " \"users\": []}", "cohort_id");
        assertProblem("{\"cohort_id\": \"c\", \"in_cohort\": \"true\", \"computed_time\": \"1\", \"message_id\": \"m\","
            + " \"users\": []}", "in_cohort");
        assertProblem("{\"cohort_id\": \"c\", \"in_cohort\": true, \"computed_time\": \"yesterday\", "
            + "\"message_id\": \"m\", \"users\": []}", "computed_time");
        assertProblem("{\"cohort_id\": \"c\", \"in_cohort\": true, \"computed_time\": \"1\", \"users\": []}",
            "message_id");
        assertProblem("{\"cohort_id\": \"c\", \"in_cohort\": true, \"computed_time\": \"1\", \"message_id\": \"m\", "
            + "\"users\": {}}", "users");
        assertProblem("{\"cohort_id\": \"c\", \"in_cohort\": true, \"computed_time\": \"1\", \"message_id\": \"m\", "
            + "\"users\": [{}, {\"user_id\": 5}]}", "users[1].user_id");
        assertProblem("{\"cohort_id\": \"c\", \"in_cohort\": true, \"computed_time\": \"1\", \"message_id\": \"m\", "
            + "\"users\": [\"u1\"]}", "users[0]");
    }

    private static void assertProblem(final String body, final String field) {
        assertThatThrownBy(() -> parse(body)).isInstanceOfSatisfying(HttpError.class, error -> {
            assertThat(error.status()).isEqualTo(400);
            assertThat(error.field()).isEqualTo(field);
        });
    }

    private static WebhookBatch parse(final String body) {
        return WebhookPayload.parse(body.getBytes(StandardCharsets.UTF_8), "demo", SyncType.REAL_TIME);
    }
}
