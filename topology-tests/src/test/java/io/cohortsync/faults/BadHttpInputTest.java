package io.cohortsync.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.http.HttpTestClient;
import io.cohortsync.http.RawHttp;
import io.cohortsync.http.TopicContents;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.runtime.ConsumerLag;
import io.cohortsync.serde.ConfluentAvroSerde;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import io.cohortsync.testing.TestDirs;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static io.cohortsync.http.AmplitudePayloads.JSON;
import static io.cohortsync.http.AmplitudePayloads.batch;
import static io.cohortsync.http.AmplitudePayloads.device;
import static io.cohortsync.http.AmplitudePayloads.identified;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * Suite 4, "Bad HTTP input": the webhook's fault table, against the real service on an in-process broker.
 *
 * <p>Every bad call (wrong method, content type, JSON, field, size, authentication, encoding) gets its documented
 * status and a JSON error that names the field when there is one and holds no secret, and adds nothing to any
 * cohort-sync topic: the end offsets of every topic of the service, internal ones included, are the same before and
 * after the call (taken once Kafka Streams has nothing left to do). Every accepted variant adds exactly its records to
 * the requests topic. Then a 10,000-user batch split into records, a split batch the broker refuses halfway (all or
 * nothing, through one transaction), concurrent split batches, randomly mutated bodies ({@code -Dcohort-sync.soak=true}
 * sends thousands, and more concurrent batches), and readiness after the barrage.
 */
@ExtendWith(SecretScan.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadHttpInputTest {

    private static final Logger LOG = LoggerFactory.getLogger(BadHttpInputTest.class);

    private static final int MAX_BODY = 2 * 1024 * 1024;
    private static final int MAX_RECORD = 1024 * 1024;
    private static final int MEMBERS_PER_RECORD = 3000;
    private static final String PATH = "/webhooks/amplitude";
    private static final String ACCOUNT = "X-CleverTap-Account-Id";
    private static final String PASSCODE = "X-CleverTap-Passcode";
    private static final String OTHER_PASSCODE = "other-account-passcode";
    private static final String ACCOUNTS = """
        accounts:
          demo:
            webhook:
              passcodes: ["%s", "%s"]
          other:
            webhook:
              passcodes: ["%s"]
        """.formatted(FaultSecrets.OLD_PASSCODE, FaultSecrets.PASSCODE, OTHER_PASSCODE);
    private static final long COMPUTED = 1_692_206_763L;

    private static final String APP_ID = "bad-http-" + UUID.randomUUID();
    private static final String PREFIX = APP_ID + ".";
    private static final String REQUESTS = PREFIX + "requests";
    private static final String SCOPE = "bad-http-" + UUID.randomUUID();
    private static final AtomicInteger IDS = new AtomicInteger();

    private static KafkaTestCluster kafka;
    private static CohortSyncService service;
    private static HttpTestClient http;
    /** End offsets once nothing moved for a while; a rejected call must leave them exactly so. */
    private static volatile Map<TopicPartition, Long> lastQuiet = Map.of();

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaTestCluster.start();
        service = CohortSyncService.start(CohortSyncConfig.of(Map.ofEntries(
            Map.entry("kafka.bootstrap-servers", kafka.bootstrapServers()),
            Map.entry("schema-registry.url", "mock://" + SCOPE),
            Map.entry("application-id", APP_ID),
            Map.entry("topic-prefix", PREFIX),
            Map.entry("topics.replication-factor", "1"),
            Map.entry("state-dir", TestDirs.create("cohort-sync-bad-http").toString()),
            Map.entry("streams.commit-interval", "100ms"),
            Map.entry("http.host", "127.0.0.1"),
            Map.entry("http.token", FaultSecrets.HTTP_TOKEN),
            Map.entry("webhook.max-body-bytes", String.valueOf(MAX_BODY)),
            Map.entry("webhook.max-members-per-record", String.valueOf(MEMBERS_PER_RECORD)),
            Map.entry("ingest.max-record-bytes", String.valueOf(MAX_RECORD))), ACCOUNTS));
        assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
        http = new HttpTestClient(service.httpPort());
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        MockSchemaRegistry.drop(SCOPE);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The rejection tables: each row is one call, its documented status and the field its error names.

    static Stream<Bad> wrongMethods() {
        final List<Bad> cases = new ArrayList<>();
        for (final String method : List.of("GET", "PUT", "DELETE", "PATCH", "OPTIONS")) {
            cases.add(bad(method + " " + PATH, () -> http.send(request(PATH).method(method,
                HttpRequest.BodyPublishers.ofString(validBody())), authJson()), 405, null).allow("POST"));
        }
        cases.add(bad("HEAD " + PATH, () -> http.send(request(PATH).method("HEAD",
            HttpRequest.BodyPublishers.noBody()), authJson()), 405, null).allow("POST").noBody());
        for (final String route : List.of("/accounts/demo/segments", "/accounts/demo/segments/c1",
            "/accounts/demo/segments/c1/members", "/accounts/demo/profiles/p1", "/accounts/demo/profiles/p1/segments",
            "/metrics")) {
            cases.add(bad("POST " + route + " with the token", () -> http.post(route, validBody(),
                "Content-Type", JSON, "Authorization", "Bearer " + FaultSecrets.HTTP_TOKEN), 405, null).allow("GET"));
        }
        cases.add(bad("POST /accounts/demo/segments without the token", () -> http.post("/accounts/demo/segments",
            validBody(), "Content-Type", JSON), 401, null));
        for (final String route : List.of("/health/live", "/health/ready", "/openapi.yaml")) {
            cases.add(bad("POST " + route, () -> http.post(route, validBody(), "Content-Type", JSON), 405, null)
                .allow("GET"));
        }
        cases.add(bad("a method that does not exist (FOO)", () -> raw("FOO " + PATH + " HTTP/1.1\r\n" + rawAuth()
            + "Content-Length: 0\r\n", new byte[0]), 405, null).errorContains("FOO"));
        return cases.stream();
    }

    static Stream<Bad> contentTypes() {
        final List<Bad> cases = new ArrayList<>();
        cases.add(bad("no Content-Type", () -> webhookAs(null, bytes(validBody())), 415, null));
        for (final String type : List.of("text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz", "application/xml", "text/json", "application/vnd.api+json",
            "application/json-patch+json", "application/jsonl", "application/json, text/plain", "*/*",
            "application/json; charset=iso-8859-1", "application/json; charset=utf-16",
            "application/json; charset=us-ascii", "application/json; charset=")) {
            cases.add(bad("Content-Type " + type, () -> webhookAs(type, bytes(validBody())), 415, null));
        }
        cases.add(bad("a gzip body (Content-Encoding: gzip)", () -> webhookAs(JSON, gzip(validBody()),
            "Content-Encoding", "gzip"), 415, null).header("Accept-Encoding", "identity"));
        cases.add(bad("Content-Encoding: br", () -> webhookAs(JSON, bytes(validBody()), "Content-Encoding", "br"),
            415, null));
        cases.add(bad("a wrong passcode and text/plain: 401 before 415", () -> http.post(PATH, validBody(),
            "Content-Type", "text/plain", ACCOUNT, "demo", PASSCODE, "nope"), 401, null));
        return cases.stream();
    }

    static Stream<Bad> malformedJson() {
        final String valid = validBody();
        final List<Bad> cases = new ArrayList<>();
        cases.add(json("truncated in the middle", valid.substring(0, valid.length() / 2)));
        cases.add(json("truncated inside a string", "{\"cohort_id\": \"c-ba"));
        cases.add(json("truncated after the last brace but one", valid.substring(0, valid.length() - 1)));
        cases.add(json("trailing garbage", valid + " xyz").errorContains("xyz"));
        cases.add(json("a second JSON value after the first", valid + valid));
        cases.add(json("a second object after the first", valid + "{}"));
        cases.add(json("a trailing comma", valid.substring(0, valid.length() - 1) + ",}"));
        cases.add(json("top level: an array", "[" + valid + "]").errorContains("JSON object"));
        cases.add(json("top level: a string", "\"hello\"").errorContains("JSON object"));
        cases.add(json("top level: a number", "42").errorContains("JSON object"));
        cases.add(json("top level: true", "true").errorContains("JSON object"));
        cases.add(json("top level: null", "null").errorContains("JSON object"));
        cases.add(json("only whitespace", " \n\t ").errorContains("empty"));
        cases.add(json("nested 5,000 arrays deep", "[".repeat(5000) + "]".repeat(5000)));
        cases.add(json("a user property nested 1,200 deep", valid.replace("\"plan\":\"pro\"",
            "\"plan\":" + "[".repeat(1200) + "]".repeat(1200))).errorContains("nesting depth"));
        cases.add(json("in_cohort twice (false, then true)", "{\"in_cohort\": false, " + valid.substring(1))
            .errorContains("in_cohort"));
        cases.add(json("a user's user_id twice", valid.replaceFirst("\"user_id\":\"amp-bad-1\"",
            "\"user_id\":\"amp-bad-1\",\"user_id\":\"amp-bad-2\"")).errorContains("user_id"));
        cases.add(json("a comment", "/* hi */" + valid));
        cases.add(json("single quotes", valid.replace('"', '\'')));
        cases.add(json("unquoted keys", "{cohort_id: \"c\"}"));
        cases.add(json("NaN as computed_time", valid.replace("\"" + COMPUTED + "\"", "NaN")));
        cases.add(json("a leading zero in computed_time", valid.replace("\"" + COMPUTED + "\"", "0" + COMPUTED)));
        cases.add(json("a hex number", valid.replace("\"" + COMPUTED + "\"", "0x64DD0FAB")));
        cases.add(json("a 2,000-digit number", valid.replace("\"" + COMPUTED + "\"", "1" + "0".repeat(2000))));
        cases.add(json("a 60,000-character key", mutate(p -> p.put("k".repeat(60_000), 1))));
        cases.add(json("a raw tab inside a string", valid.replace("Bad input", "Bad\tinput")));
        cases.add(json("an unterminated string to the end", "{\"cohort_id\": \"" + "x".repeat(1000)));
        return cases.stream();
    }

    static Stream<Bad> fields() {
        final List<Bad> cases = new ArrayList<>();
        final Map<String, List<String>> wrongTypes = new LinkedHashMap<>();
        wrongTypes.put("cohort_id", List.of("7", "true", "{}", "[\"c1\"]", "\"   \"", "\"a|b\"", "\"c\\u0000d\"",
            "\"c\\nd\""));
        wrongTypes.put("in_cohort", List.of("\"true\"", "1", "\"yes\"", "{}"));
        wrongTypes.put("computed_time", List.of("true", "{}", "[1692206763]", "\"-1\"", "-1", "\"1e3\"", "1e30",
            "1e400", "-1e400", "\"169220676312345\"", "\"999999999999\"",
            "\"" + (Instant.now().getEpochSecond() + 3 * 86_400) + "\"", "\"1692206763.1234567891\"", "\" \"",
            "\"1,692,206,763\"", "\"2023-08-16T17:26:03Z\""));
        wrongTypes.put("message_id", List.of("5", "false", "{}", "\"  \"", "\"m|1\"", "\"m\\u0000\""));
        wrongTypes.put("users", List.of("{}", "\"u1\"", "5", "true"));
        wrongTypes.put("cohort_name", List.of("5", "{}", "[\"a\"]", "false"));
        for (final String field : List.of("cohort_id", "in_cohort", "computed_time", "message_id", "users")) {
            cases.add(bad(field + " missing", () -> webhook(mutate(p -> p.remove(field))), 400, field)
                .errorContains(field));
            cases.add(bad(field + " null", () -> webhook(mutate(p -> p.putNull(field))), 400, field));
            cases.add(bad(field + " an empty string", () -> webhook(mutate(p -> p.put(field, ""))), 400, field));
        }
        wrongTypes.forEach((field, values) -> values.forEach(value -> cases.add(bad(field + " = " + value,
            () -> webhook(mutate(p -> p.set(field, json(value)))), 400, field))));
        cases.add(user("users[0] a string", users -> users.set(0, json("\"u1\"")), "users[0]"));
        cases.add(user("users[1] null", users -> users.set(1, json("null")), "users[1]"));
        cases.add(user("users[0] an array", users -> users.set(0, json("[]")), "users[0]"));
        cases.add(user("users[1].user_id a number", users -> ((ObjectNode) users.get(1)).put("user_id", 5),
            "users[1].user_id"));
        cases.add(user("users[0].user_id an object", users -> ((ObjectNode) users.get(0)).set("user_id",
            json("{}")), "users[0].user_id"));
        cases.add(user("users[1].device_id true", users -> ((ObjectNode) users.get(1)).put("device_id", true),
            "users[1].device_id"));
        cases.add(user("users[0].amplitude_id 1.5", users -> ((ObjectNode) users.get(0)).put("amplitude_id", 1.5),
            "users[0].amplitude_id"));
        cases.add(user("users[0].amplitude_id an object", users -> ((ObjectNode) users.get(0)).set("amplitude_id",
            json("{\"id\": 1}")), "users[0].amplitude_id"));
        cases.add(user("users[0].user_properties an array", users -> ((ObjectNode) users.get(0))
            .set("user_properties", json("[1]")), "users[0].user_properties"));
        cases.add(user("users[0].user_properties a string", users -> ((ObjectNode) users.get(0))
            .put("user_properties", "plan=pro"), "users[0].user_properties"));
        cases.add(bad("sync_type=WEEKLY", () -> http.post(PATH + "?sync_type=WEEKLY", validBody(), authJson()), 400,
            "sync_type"));
        // Ingest would dead-letter these after a 200, and Amplitude would never send the change again.
        for (final String field : List.of("cohort_id", "cohort_name", "message_id")) {
            cases.add(bad(field + " of 1,025 characters", () -> webhook(mutate(p -> p.put(field, "x".repeat(1025)))),
                400, field).errorContains("1025 characters"));
        }
        cases.add(bad("a message_id that fits, but not with the |part-<n> of a split batch", () -> webhook(mutate(p -> {
            final ArrayNode users = HttpTestClient.JSON.createArrayNode();
            IntStream.rangeClosed(0, MEMBERS_PER_RECORD).forEach(i -> users.add(device("long-id-dev-" + i)));
            p.put("message_id", "m".repeat(1020)).set("users", users);
        })), 400, "message_id").errorContains("part-<n>"));
        return cases.stream();
    }

    static Stream<Bad> sizes() {
        final List<Bad> cases = new ArrayList<>();
        cases.add(bad("an empty body", () -> webhookAs(JSON, new byte[0]), 400, null).errorContains("empty"));
        cases.add(bad("one byte over the limit", () -> webhookAs(JSON, padded(validBody(), MAX_BODY + 1)), 413,
            null));
        cases.add(bad("a declared Content-Length over the limit (1 KiB sent)", () -> raw("POST " + PATH
            + " HTTP/1.1\r\n" + rawAuth() + "Content-Length: " + (MAX_BODY + 1) + "\r\n", new byte[1024]), 413,
            null));
        cases.add(bad("chunked, one byte over the limit", () -> chunked(padded(validBody(), MAX_BODY + 1)), 413,
            null));
        cases.add(bad("chunked, twice the limit", () -> chunked(padded(validBody(), 2 * MAX_BODY)), 413, null));
        cases.add(bad("a part over ingest.max-record-bytes (3,001 users, the last one 1.1 MB)",
            () -> webhook(oversizedSecondPart()), 413, null).errorContains("max-record-bytes"));
        cases.add(bad("a body shorter than its Content-Length (the client hangs up)", () -> rawHalfClosed("POST "
            + PATH + " HTTP/1.1\r\n" + rawAuth() + "Content-Length: 500\r\n", bytes("{\"cohort_id\": ")), 400, null));
        cases.add(bad("a malformed chunk size", () -> raw("POST " + PATH + " HTTP/1.1\r\n" + rawAuth()
            + "Transfer-Encoding: chunked\r\n", bytes("zz\r\n{}\r\n0\r\n\r\n")), 400, null));
        cases.add(bad("both Content-Length and Transfer-Encoding", () -> raw("POST " + PATH + " HTTP/1.1\r\n"
            + rawAuth() + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", bytes("2\r\n{}\r\n0\r\n\r\n")), 400,
            null));
        cases.add(bad("two Content-Length headers", () -> raw("POST " + PATH + " HTTP/1.1\r\n" + rawAuth()
            + "Content-Length: 2\r\nContent-Length: 3\r\n", bytes("{}")), 400, null));
        cases.add(bad("a negative Content-Length", () -> raw("POST " + PATH + " HTTP/1.1\r\n" + rawAuth()
            + "Content-Length: -5\r\n", bytes("{}")), 400, null));
        cases.add(bad("request headers over 8 KiB", () -> raw("POST " + PATH + " HTTP/1.1\r\n" + rawAuth()
            + "X-Padding: " + "a".repeat(10_000) + "\r\nContent-Length: 2\r\n", bytes("{}")), 431, null));
        cases.add(bad("an Expect other than 100-continue", () -> raw(postHead(ACCOUNT + ": demo\r\n" + PASSCODE
            + ": " + FaultSecrets.PASSCODE + "\r\nExpect: something-else\r\n"), bytes(validBody())), 417, null));
        cases.add(bad("HTTP/3.0 on a plain socket", () -> raw("POST " + PATH + " HTTP/3.0\r\n" + rawAuth(),
            bytes(validBody())), 505, null));
        cases.add(bad("a URI over 8 KiB", () -> raw("POST " + PATH + "?sync_type=" + "A".repeat(10_000)
            + " HTTP/1.1\r\n" + rawAuth() + "Content-Length: 2\r\n", bytes("{}")), 414, null));
        return cases.stream();
    }

    static Stream<Bad> authentication() {
        final String pass = FaultSecrets.PASSCODE;
        final List<Bad> cases = new ArrayList<>();
        cases.add(auth("no authentication headers", "Content-Type", JSON));
        cases.add(auth("the account only", "Content-Type", JSON, ACCOUNT, "demo"));
        cases.add(auth("the passcode only", "Content-Type", JSON, PASSCODE, pass));
        cases.add(auth("an unknown account with a valid passcode", "Content-Type", JSON, ACCOUNT, "nobody",
            PASSCODE, pass));
        cases.add(auth("the account id in another case (DEMO)", "Content-Type", JSON, ACCOUNT, "DEMO", PASSCODE,
            pass));
        cases.add(auth("a wrong passcode", "Content-Type", JSON, ACCOUNT, "demo", PASSCODE, "wrong-passcode"));
        cases.add(auth("the passcode in upper case", "Content-Type", JSON, ACCOUNT, "demo", PASSCODE,
            pass.toUpperCase(Locale.ROOT)));
        cases.add(auth("the passcode with one more character", "Content-Type", JSON, ACCOUNT, "demo", PASSCODE,
            pass + "0"));
        cases.add(auth("the passcode less its last character", "Content-Type", JSON, ACCOUNT, "demo", PASSCODE,
            pass.substring(0, pass.length() - 1)));
        cases.add(auth("an empty passcode", "Content-Type", JSON, ACCOUNT, "demo", PASSCODE, ""));
        cases.add(auth("another account's passcode", "Content-Type", JSON, ACCOUNT, "demo", PASSCODE,
            OTHER_PASSCODE));
        cases.add(auth("demo's passcode for another account", "Content-Type", JSON, ACCOUNT, "other", PASSCODE,
            pass));
        cases.add(auth("the HTTP token as the passcode", "Content-Type", JSON, ACCOUNT, "demo", PASSCODE,
            FaultSecrets.HTTP_TOKEN));
        cases.add(auth("the HTTP token as a bearer instead of a passcode", "Content-Type", JSON, ACCOUNT, "demo",
            "Authorization", "Bearer " + FaultSecrets.HTTP_TOKEN));
        cases.add(auth("two passcodes in one header", "Content-Type", JSON, ACCOUNT, "demo", PASSCODE,
            "wrong, " + pass));
        cases.add(bad("the passcode header twice (right, then wrong)", () -> raw(postHead(ACCOUNT + ": demo\r\n"
            + PASSCODE + ": " + pass + "\r\n" + PASSCODE + ": wrong\r\n"), bytes(validBody())), 401, null));
        cases.add(bad("a CR LF in the passcode injecting a second one (wrong, then right)", () -> raw(postHead(
            ACCOUNT + ": demo\r\n" + PASSCODE + ": wrong\r\n" + PASSCODE + ": " + pass + "\r\n"),
            bytes(validBody())), 401, null));
        cases.add(bad("the account header twice (demo, then other)", () -> raw(postHead(ACCOUNT + ": demo\r\n"
            + ACCOUNT + ": other\r\n" + PASSCODE + ": " + pass + "\r\n"), bytes(validBody())), 401, null));
        cases.add(bad("a bare CR inside the passcode", () -> raw(postHead(ACCOUNT + ": demo\r\n" + PASSCODE
            + ": wrong\rX: " + pass + "\r\n"), bytes(validBody())), 400, null));
        cases.add(bad("a folded (obs-fold) passcode header", () -> raw(postHead(ACCOUNT + ": demo\r\n" + PASSCODE
            + ": wrong\r\n " + pass + "\r\n"), bytes(validBody())), 400, null));
        cases.add(bad("a NUL in the account header", () -> raw(postHead(ACCOUNT + ": de\u0000mo\r\n" + PASSCODE
            + ": " + pass + "\r\n"), bytes(validBody())), 400, null));
        cases.add(bad("non-ASCII (UTF-8) bytes after the passcode", () -> raw(postHead(ACCOUNT + ": demo\r\n"
            + PASSCODE + ": " + new String(bytes(pass + "é"), StandardCharsets.ISO_8859_1) + "\r\n"),
            bytes(validBody())), 401, null));
        cases.add(bad("control bytes in the passcode", () -> raw(postHead(ACCOUNT + ": demo\r\n" + PASSCODE + ": "
            + pass + "\u0001\u00ff\r\n"), bytes(validBody())), 400, null));
        cases.add(bad("a space before the colon of the passcode header", () -> raw(postHead(ACCOUNT + ": demo\r\n"
            + PASSCODE + " : " + pass + "\r\n"), bytes(validBody())), 400, null));
        return cases.stream();
    }

    static Stream<Bad> badUnicode() {
        final List<Bad> cases = new ArrayList<>();
        cases.add(encoding("an invalid byte (0xFF) in a string", (byte) 0xFF));
        cases.add(encoding("an overlong encoding of '/' (0xC0 0xAF)", (byte) 0xC0, (byte) 0xAF));
        cases.add(encoding("a UTF-8-encoded surrogate (CESU-8: 0xED 0xA0 0x80)", (byte) 0xED, (byte) 0xA0,
            (byte) 0x80));
        cases.add(encoding("a truncated 3-byte sequence (0xE2 0x82)", (byte) 0xE2, (byte) 0x82));
        cases.add(encoding("a lone continuation byte (0x80)", (byte) 0x80));
        cases.add(encoding("a code point above U+10FFFF (0xF4 0x90 0x80 0x80)", (byte) 0xF4, (byte) 0x90,
            (byte) 0x80, (byte) 0x80));
        cases.add(bad("a raw NUL byte in a string", () -> webhookAs(JSON, withBytes((byte) 0)), 400, null));
        cases.add(bad("a UTF-16BE body", () -> webhookAs(JSON, validBody().getBytes(StandardCharsets.UTF_16BE)),
            400, null));
        cases.add(bad("a UTF-16LE body", () -> webhookAs(JSON, validBody().getBytes(StandardCharsets.UTF_16LE)),
            400, null));
        cases.add(bad("a UTF-16 body with its BOM", () -> webhookAs(JSON, validBody()
            .getBytes(StandardCharsets.UTF_16)), 400, null));
        // Escapes in the JSON text itself: a Java string with a lone surrogate could not even be sent as UTF-8.
        cases.add(bad("a lone high surrogate escape in an identity", () -> webhook(validBody().replace(
            "\"CleverTap_Identity\":\"bad-1\"", "\"CleverTap_Identity\":\"x\\ud83dy\"")), 400,
            "users[0].user_properties.CleverTap_Identity").errorContains("surrogate"));
        cases.add(bad("a lone low surrogate escape in the cohort name", () -> webhook(validBody().replace(
            "\"Bad input\"", "\"Cart \\udc00\"")), 400, "cohort_name"));
        cases.add(bad("a reversed surrogate pair in a user_id", () -> webhook(validBody().replace(
            "\"amp-bad-1\"", "\"\\ude00\\ud83d\"")), 400, "users[0].user_id"));
        cases.add(bad("a lone surrogate escape in a property name", () -> webhook(validBody().replace(
            "\"plan\"", "\"k\\ud800\"")), 400, "users[0].user_properties"));
        return cases.stream();
    }

    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource("wrongMethods")
    void aWrongMethodIs405WithAllowAndWritesNothing(final Bad bad) {
        assertRejected(bad);
    }

    @Order(2)
    @ParameterizedTest(name = "{0}")
    @MethodSource("contentTypes")
    void aBodyThatIsNotUtf8JsonByItsHeadersIs415AndWritesNothing(final Bad bad) {
        assertRejected(bad);
    }

    @Order(3)
    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedJson")
    void malformedJsonIs400AndWritesNothing(final Bad bad) {
        assertRejected(bad);
    }

    @Order(4)
    @ParameterizedTest(name = "{0}")
    @MethodSource("fields")
    void aMissingOrWrongFieldIs400NamingItAndWritesNothing(final Bad bad) {
        assertRejected(bad);
    }

    @Order(5)
    @ParameterizedTest(name = "{0}")
    @MethodSource("sizes")
    void aBodyOrRecordOverItsLimitOrBadlyFramedIsRefusedAndWritesNothing(final Bad bad) {
        assertRejected(bad);
    }

    @Order(6)
    @ParameterizedTest(name = "{0}")
    @MethodSource("authentication")
    void anythingButOneValidAccountAndPasscodeIs401AndWritesNothing(final Bad bad) {
        assertRejected(bad);
    }

    @Order(7)
    @ParameterizedTest(name = "{0}")
    @MethodSource("badUnicode")
    void aBodyThatIsNotWellFormedUnicodeIs400AndWritesNothing(final Bad bad) {
        assertRejected(bad);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // What is accepted: each variant adds exactly its one record.

    static Stream<Good> acceptedVariants() {
        final List<Good> cases = new ArrayList<>();
        for (final String type : List.of("application/json", "application/json; charset=utf-8",
            "APPLICATION/JSON; CHARSET=UTF-8", "application/json;charset=\"utf-8\"",
            "application/json ; charset=UTF-8")) {
            cases.add(good("Content-Type " + type, id -> webhookAs(type, bytes(acceptedBody(id)))));
        }
        cases.add(good("Content-Encoding: identity", id -> webhookAs(JSON, bytes(acceptedBody(id)),
            "Content-Encoding", "identity")));
        cases.add(good("the old passcode, still in the rotation list", id -> http.post(PATH, acceptedBody(id),
            "Content-Type", JSON, ACCOUNT, "demo", PASSCODE, FaultSecrets.OLD_PASSCODE)));
        cases.add(good("header names in lower case", id -> raw("POST " + PATH + " HTTP/1.1\r\nhost: 127.0.0.1\r\n"
            + "content-type: application/json\r\nx-clevertap-account-id: demo\r\nx-clevertap-passcode: "
            + FaultSecrets.PASSCODE + "\r\nContent-Length: " + bytes(acceptedBody(id)).length + "\r\n",
            bytes(acceptedBody(id)))));
        cases.add(good("a UTF-8 byte order mark before the JSON", id -> webhookAs(JSON,
            concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, bytes(acceptedBody(id))))));
        cases.add(good("a body of exactly webhook.max-body-bytes", id -> webhookAs(JSON,
            padded(acceptedBody(id), MAX_BODY))));
        cases.add(good("a chunked body of exactly webhook.max-body-bytes", id -> chunked(
            padded(acceptedBody(id), MAX_BODY))));
        cases.add(good("unknown extra fields (ignored)", id -> webhook(mutateAccepted(id, p -> p.putObject("extra")
            .put("a", 1)))));
        cases.add(good("HTTP/1.0", id -> raw("POST " + PATH + " HTTP/1.0\r\n" + rawAuth() + "Content-Length: "
            + bytes(acceptedBody(id)).length + "\r\n", bytes(acceptedBody(id)))));
        cases.add(good("Expect: 100-continue", id -> raw(postHead(ACCOUNT + ": demo\r\n" + PASSCODE + ": "
            + FaultSecrets.PASSCODE + "\r\nExpect: 100-continue\r\nContent-Length: " + bytes(acceptedBody(id)).length
            + "\r\n"), bytes(acceptedBody(id)))));
        cases.add(good("sync_type=daily (any case)", id -> http.post(PATH + "?sync_type=daily", acceptedBody(id),
            authJson())));
        cases.add(good("computed_time as a JSON number with a fraction", id -> webhook(mutateAccepted(id,
            p -> p.put("computed_time", 1_692_206_763.25)))));
        cases.add(good("cohort_name null", id -> webhook(mutateAccepted(id, p -> p.putNull("cohort_name")))));
        cases.add(good("an empty users array", id -> webhook(mutateAccepted(id, p -> p.putArray("users")))));
        return cases.stream();
    }

    @Order(8)
    @ParameterizedTest(name = "{0}")
    @MethodSource("acceptedVariants")
    void eachAcceptedVariantAddsExactlyItsRecord(final Good good) {
        final String messageId = "m-ok-" + IDS.incrementAndGet();
        assertAccepted(good.name(), () -> good.call().apply(messageId), "demo|c-accepted", List.of(messageId));
    }

    @Order(9)
    @Test
    void nonAsciiIdsAndNamesAreKeptExactlyAndIdentitiesFoldCaseButNotNormalForms() {
        final String name = "\uD83D\uDED2 Cart — Ünïcödé";
        final List<String> identities = List.of("Müller", "山田太郎", "\uD83D\uDE42-fan", "e\u0301lodie",
            "\u00e9lodie", "שלום", "nul\u0000byte", "Ωmega");
        final String payload = batch("c-unicode", name, true, COMPUTED, "m-unicode",
            identities.stream().map(i -> identified(i)).toArray(ObjectNode[]::new)).toString();

        final List<CohortSyncRequest> written = assertAccepted("unicode", () -> webhook(payload),
            "demo|c-unicode", List.of("m-unicode"));

        assertThat(written.get(0).getCohortName()).isEqualTo(name);
        assertThat(written.get(0).getMembers()).extracting(m -> m.getUserProperties().get("CleverTap_Identity"))
            .containsExactlyElementsOf(identities);
        final List<PartnerSyncEvent> events = awaitEvents("c-unicode", identities.size());
        assertThat(events).allSatisfy(e -> assertThat(e.getProperties()).containsEntry("Partner Segment Name", name)
            .containsEntry("Action", "Added"));
        // Exactly as sent: no Unicode normalisation, so the precomposed and the decomposed 'élodie' are two profiles.
        assertThat(events).extracting(PartnerSyncEvent::getIdentity).containsExactlyInAnyOrderElementsOf(identities);
        assertThat(events).extracting(PartnerSyncEvent::getObjectId).doesNotHaveDuplicates();

        // Identities match case-insensitively beyond ASCII: MÜLLER is Müller, already a member, so no new event.
        assertAccepted("unicode upper case", () -> webhook(batch("c-unicode", name, true, COMPUTED + 1,
            "m-unicode-upper", identified("MÜLLER")).toString()), "demo|c-unicode", List.of("m-unicode-upper"));
        final SyncReport upper = awaitReport("demo|c-unicode", "m-unicode-upper");
        assertThat(upper.getMatched()).isEqualTo(1);
        assertThat(upper.getUnchanged()).isEqualTo(1);
        awaitQuiet();
        assertThat(eventsOf("c-unicode")).hasSize(identities.size());
    }

    @Order(10)
    @Test
    void aUserWithoutAnyIdIsAcceptedAndCountedAsRejectedInTheSyncReport() {
        final ObjectNode noIds = HttpTestClient.JSON.createObjectNode();
        noIds.putNull("user_id");
        noIds.putObject("user_properties").put("plan", "pro");
        final ObjectNode emptyIds = HttpTestClient.JSON.createObjectNode();
        emptyIds.put("user_id", "");
        emptyIds.put("device_id", "");
        final String payload = batch("c-no-ids", "No ids", true, COMPUTED, "m-no-ids", noIds, emptyIds,
            HttpTestClient.JSON.createObjectNode(), identified("has-an-id")).toString();

        assertAccepted("users without ids", () -> webhook(payload), "demo|c-no-ids", List.of("m-no-ids"));

        final SyncReport report = awaitReport("demo|c-no-ids", "m-no-ids");
        assertThat(report.getMembers()).isEqualTo(4);
        assertThat(report.getRejected()).isEqualTo(3);
        assertThat(report.getRejectedByReason()).containsEntry("NO_IDENTIFIER", 3);
        assertThat(report.getAdded()).isEqualTo(1);
        awaitQuiet();
        assertThat(eventsOf("c-no-ids")).singleElement()
            .satisfies(e -> assertThat(e.getIdentity()).isEqualTo("has-an-id"));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // A 10,000-user batch.

    @Order(11)
    @Test
    void aTenThousandUserBatchIsSplitIntoRecordsWithDeterministicIdsAndAddsEveryUserOnce() {
        final List<String> identities = IntStream.range(0, 10_000).mapToObj(i -> String.format("bulk-%05d", i))
            .toList();
        final String payload = batch("c-10k", "Ten thousand", true, COMPUTED, "m-10k",
            identities.stream().map(i -> identified(i)).toArray(ObjectNode[]::new)).toString();
        final List<String> parts = List.of("m-10k|part-0", "m-10k|part-1", "m-10k|part-2", "m-10k|part-3");

        final List<CohortSyncRequest> written = assertAccepted("10,000 users", () -> webhook(payload), "demo|c-10k",
            parts);

        assertThat(written).extracting(r -> r.getMembers().size()).containsExactly(3000, 3000, 3000, 1000);
        assertThat(written.stream().flatMap(r -> r.getMembers().stream())
            .map(m -> m.getUserProperties().get("CleverTap_Identity"))).containsExactlyElementsOf(identities);
        final List<PartnerSyncEvent> events = awaitEvents("c-10k", 10_000);
        assertThat(events).extracting(PartnerSyncEvent::getIdentity).containsExactlyInAnyOrderElementsOf(identities);
        assertThat(events).allSatisfy(e -> assertThat(e.getProperties()).containsEntry("Action", "Added"));
        assertThat(events).extracting(PartnerSyncEvent::getEventId).doesNotHaveDuplicates();
        final List<SyncReport> reports = parts.stream().map(id -> awaitReport("demo|c-10k", id)).toList();
        assertThat(reports).extracting(SyncReport::getCreated).containsExactly(3000, 3000, 3000, 1000);
        assertThat(reports).noneMatch(SyncReport::getDuplicate);
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
            final JsonNode segment = http.get("/accounts/demo/segments/c-10k",
                "Authorization", "Bearer " + FaultSecrets.HTTP_TOKEN).json();
            assertThat(segment.path("memberCount").asInt()).isEqualTo(10_000);
            assertThat(segment.path("totalAdded").asInt()).isEqualTo(10_000);
            assertThat(segment.path("name").asText()).isEqualTo("Ten thousand");
        });

        // Amplitude retries: the same split, the same ids, every part a duplicate, not one more event.
        assertAccepted("10,000 users again", () -> webhook(payload), "demo|c-10k", parts);
        await().atMost(Duration.ofMinutes(1)).until(() -> reportsOf("demo|c-10k").stream()
            .filter(SyncReport::getDuplicate).count() == parts.size());
        awaitQuiet();
        assertThat(eventsOf("c-10k")).hasSize(10_000);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // A split batch whose second part the broker refuses: none of it may be applied.

    @Order(12)
    @Test
    void aSplitBatchTheBrokerRefusesHalfwayIsNotAppliedAtAllAndItsRetryIsAppliedWhole() throws Exception {
        final ArrayNode users = HttpTestClient.JSON.createArrayNode();
        IntStream.range(0, MEMBERS_PER_RECORD).forEach(i -> users.add(device("txn-dev-" + i)));
        final ObjectNode big = device("txn-dev-big");
        // Random letters: lz4 cannot shrink them under the topic's limit set below.
        ((ObjectNode) big.get("user_properties")).put("blob", randomLetters(new Random(7), 600_000));
        users.add(big);
        final ObjectNode payload = batch("c-txn", "Refused halfway", true, COMPUTED, "m-txn");
        payload.set("users", users);
        final String key = "demo|c-txn";

        // The first part (3,000 small members) fits the topic's max.message.bytes, the second (600 KB) does not.
        final String original = setRequestsMaxMessageBytes(String.valueOf(256 * 1024));
        final HttpTestClient.Response refused;
        try {
            refused = webhook(payload.toString());
        } finally {
            setRequestsMaxMessageBytes(original);
        }

        assertThat(refused.status()).as(refused.body()).isEqualTo(503);
        assertThat(refused.json().path("retryable").asBoolean()).isTrue();
        assertThat(refused.header("Retry-After")).isPresent();
        SecretScan.assertNoSecret("refused split batch", refused.body());
        assertThat(readCommitted(REQUESTS, CohortSyncRequest.class)).as("parts visible to read_committed readers")
            .noneMatch(r -> key.equals(r.key()));
        awaitQuiet();
        assertThat(eventsOf("c-txn")).isEmpty();
        assertThat(reportsOf(key)).isEmpty();
        assertThat(deadLetterKeys()).doesNotContain(key);

        // Amplitude retries once the broker takes it: both parts, applied once (not "part-0 was a duplicate").
        assertAccepted("the retry", () -> webhook(payload.toString()), key, List.of("m-txn|part-0", "m-txn|part-1"));
        final SyncReport first = awaitReport(key, "m-txn|part-0");
        final SyncReport second = awaitReport(key, "m-txn|part-1");
        assertThat(first.getDuplicate()).isFalse();
        assertThat(first.getCreated()).isEqualTo(MEMBERS_PER_RECORD);
        assertThat(second.getDuplicate()).isFalse();
        assertThat(second.getCreated()).isEqualTo(1);
        assertThat(awaitEvents("c-txn", MEMBERS_PER_RECORD + 1)).hasSize(MEMBERS_PER_RECORD + 1);
    }

    @Order(13)
    @Test
    void concurrentSplitBatchesEachGoInWhole() throws Exception {
        // More than the 4 transactional producers the webhook keeps for split batches: some calls wait for one.
        final int batches = Soak.pick(6, 24);
        final ExecutorService callers = Executors.newFixedThreadPool(batches);
        final List<Future<HttpTestClient.Response>> answers = new ArrayList<>();
        try {
            for (int b = 0; b < batches; b++) {
                final ArrayNode users = HttpTestClient.JSON.createArrayNode();
                final int batch = b;
                IntStream.rangeClosed(0, MEMBERS_PER_RECORD).forEach(i -> users.add(device("conc-" + batch + "-" + i)));
                final ObjectNode payload = batch("c-conc-" + b, "Concurrent", true, COMPUTED, "m-conc-" + b);
                payload.set("users", users);
                answers.add(callers.submit(() -> webhook(payload.toString())));
            }
            for (int b = 0; b < batches; b++) {
                final HttpTestClient.Response answer = answers.get(b).get(2, TimeUnit.MINUTES);
                assertThat(answer.status()).as(answer.body()).isEqualTo(200);
                assertThat(answer.json().path("messageIds")).extracting(JsonNode::asText)
                    .containsExactly("m-conc-" + b + "|part-0", "m-conc-" + b + "|part-1");
            }
        } finally {
            callers.shutdownNow();
        }

        final List<ConsumerRecord<String, CohortSyncRequest>> requests = readCommitted(REQUESTS,
            CohortSyncRequest.class);
        for (int b = 0; b < batches; b++) {
            final String key = "demo|c-conc-" + b;
            assertThat(requests.stream().filter(r -> key.equals(r.key())).map(ConsumerRecord::value))
                .extracting(CohortSyncRequest::getMessageId, r -> r.getMembers().size())
                .containsExactly(tuple("m-conc-" + b + "|part-0", MEMBERS_PER_RECORD),
                    tuple("m-conc-" + b + "|part-1", 1));
            assertThat(awaitReport(key, "m-conc-" + b + "|part-1").getCreated()).isEqualTo(1);
            assertThat(awaitReport(key, "m-conc-" + b + "|part-0").getCreated()).isEqualTo(MEMBERS_PER_RECORD);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Randomly mutated bodies: a documented 4xx and nothing written, or a 200 and exactly its records.

    @Order(14)
    @Test
    void randomlyMutatedBodiesAreRefusedWithADocumented4xxOrAcceptedWhole() {
        // A fixed seed in CI; a new one per soak run, logged, and replayed with -Dcohort-sync.soak.seed=<seed>.
        final long seed = Long.getLong("cohort-sync.soak.seed", Soak.ENABLED ? System.nanoTime() : 20_261_122L);
        final int calls = Soak.pick(80, 5000);
        LOG.info("Mutating {} webhook bodies with seed {}", calls, seed);
        final Random random = new Random(seed);
        final Map<Integer, Integer> statuses = new TreeMap<>();
        final List<String> accepted = new ArrayList<>();
        for (int call = 0; call < calls; call++) {
            final String messageId = "m-fuzz-" + call;
            final byte[] body = Mutations.apply(random, bytes(batch("c-fuzz", "Fuzz ✓", random.nextBoolean(),
                COMPUTED + call, messageId, identified("fuzz-" + call), device("fuzz-dev-" + call)).toString()));
            final String what = "call " + call + " (seed " + seed + "): " + new String(body, StandardCharsets.UTF_8);
            final Map<TopicPartition, Long> before = requestsEndOffsets();
            final HttpTestClient.Response answer = webhookAs(JSON, body);
            statuses.merge(answer.status(), 1, Integer::sum);
            SecretScan.assertNoSecret(what, answer.body());
            assertThat(answer.status()).as(what + " -> " + answer.body()).isIn(200, 400, 413, 415);
            if (answer.status() == 200) {
                final List<ConsumerRecord<String, CohortSyncRequest>> added = appendedRequests(before);
                final List<String> ids = new ArrayList<>();
                answer.json().path("messageIds").forEach(id -> ids.add(id.asText()));
                assertThat(added).as(what).extracting(r -> r.value().getMessageId()).containsExactlyElementsOf(ids);
                added.forEach(r -> accepted.add(r.key() + "|" + r.value().getMessageId()));
            } else {
                // The requests topic is all the webhook writes to, and the import only reacts to it: nothing there
                // means nothing anywhere (the tables above check every topic; here the import is busy with the
                // accepted mutations, so their end offsets move anyway).
                assertThat(answer.json().path("error").asText()).as(what).isNotBlank();
                assertThat(requestsEndOffsets()).as(what).isEqualTo(before);
            }
        }
        LOG.info("Mutated bodies by status: {}", statuses);
        assertThat(statuses.getOrDefault(400, 0)).isPositive();
        // Every accepted record went through the import: one sync report each, nothing dead-lettered.
        await().atMost(Duration.ofMinutes(2)).until(() -> readCommitted(PREFIX + "sync-reports", SyncReport.class)
            .stream().map(r -> r.key() + "|" + r.value().getMessageId()).collect(Collectors.toSet())
            .containsAll(accepted));
        assertThat(deadLetterKeys()).noneMatch(k -> k.contains("c-fuzz"));
    }

    // ---------------------------------------------------------------------------------------------------------------

    @Order(15)
    @Test
    void afterTheBarrageTheServiceIsReadyAndStillImports() {
        final HttpTestClient.Response ready = http.get("/health/ready");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().path("status").asText()).isEqualTo("RUNNING");
        assertThat(http.get("/health/live").status()).isEqualTo(200);
        assertAccepted("after the barrage", () -> webhook(batch("c-after", "After", true, COMPUTED, "m-after",
            identified("after-1")).toString()), "demo|c-after", List.of("m-after"));
        assertThat(awaitReport("demo|c-after", "m-after").getAdded()).isEqualTo(1);
        assertThat(http.get("/metrics", "Authorization", "Bearer " + FaultSecrets.HTTP_TOKEN).body())
            .contains("cohort_sync_webhook_requests_total{outcome=\"bad_request\"}")
            .contains("cohort_sync_webhook_requests_total{outcome=\"unauthorized\"}");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Checks.

    /** The answer is the documented one, a JSON error without secrets, and no topic has one record more. */
    private static void assertRejected(final Bad bad) {
        final Map<TopicPartition, Long> before = awaitQuiet();
        final HttpTestClient.Response answer = bad.call().get();
        SecretScan.assertNoSecret(bad.name(), answer.body());
        SecretScan.assertNoSecret(bad.name() + " (headers)", answer.headers().toString());
        assertThat(answer.status()).as(bad.name() + ": " + answer.body()).isEqualTo(bad.status());
        if (bad.jsonBody()) {
            assertThat(answer.header("Content-Type")).as(bad.name()).hasValueSatisfying(type ->
                assertThat(type).startsWith("application/json"));
            final JsonNode error = answer.json();
            assertThat(error.path("error").asText()).as(bad.name()).isNotBlank();
            assertThat(error.has("retryable")).as(bad.name()).isFalse();
            if (bad.field() == null) {
                assertThat(error.has("field")).as(bad.name() + ": " + answer.body()).isFalse();
            } else {
                assertThat(error.path("field").asText()).as(bad.name() + ": " + answer.body()).isEqualTo(bad.field());
            }
            if (bad.errorContains() != null) {
                assertThat(error.path("error").asText()).as(bad.name()).containsIgnoringCase(bad.errorContains());
            }
        } else {
            assertThat(answer.body()).as(bad.name()).isEmpty();
        }
        bad.headers().forEach((name, value) -> assertThat(answer.header(name)).as(bad.name() + ": " + name)
            .contains(value));
        final Map<TopicPartition, Long> after = endOffsets();
        assertThat(changed(before, after)).as(bad.name() + ": records added to cohort-sync topics").isEmpty();
    }

    /** A 200 whose message ids are {@code messageIds}, and exactly those records added to the requests topic. */
    private static List<CohortSyncRequest> assertAccepted(final String name,
                                                          final Supplier<HttpTestClient.Response> call,
                                                          final String key, final List<String> messageIds) {
        final Map<TopicPartition, Long> before = requestsEndOffsets();
        final HttpTestClient.Response answer = call.get();
        assertThat(answer.status()).as(name + ": " + answer.body()).isEqualTo(200);
        final List<String> answered = new ArrayList<>();
        answer.json().path("messageIds").forEach(id -> answered.add(id.asText()));
        assertThat(answered).as(name).containsExactlyElementsOf(messageIds);
        final List<ConsumerRecord<String, CohortSyncRequest>> added = appendedRequests(before);
        assertThat(added).as(name + ": record keys").extracting(ConsumerRecord::key).containsOnly(key);
        assertThat(added).as(name + ": message ids").extracting(r -> r.value().getMessageId())
            .containsExactlyElementsOf(messageIds);
        assertThat(answer.json().path("accepted").asInt()).as(name)
            .isEqualTo(added.stream().mapToInt(r -> r.value().getMembers().size()).sum());
        return added.stream().map(ConsumerRecord::value).toList();
    }

    private static Map<TopicPartition, String> changed(final Map<TopicPartition, Long> before,
                                                       final Map<TopicPartition, Long> after) {
        final Map<TopicPartition, String> changed = new TreeMap<>(
            (a, b) -> a.toString().compareTo(b.toString()));
        after.forEach((partition, end) -> {
            if (!end.equals(before.get(partition))) {
                changed.put(partition, before.get(partition) + " -> " + end);
            }
        });
        before.keySet().stream().filter(p -> !after.containsKey(p)).forEach(p -> changed.put(p, "gone"));
        return changed;
    }

    /**
     * The end offsets once Kafka Streams has finished with what earlier tests sent: its group has committed past
     * everything on the topics it reads, and the offsets are unchanged over three polls, 300 ms apart (the commit
     * interval is 100 ms, so work in progress would show).
     */
    private static Map<TopicPartition, Long> awaitQuiet() {
        awaitStreamsCaughtUp();
        final Map<TopicPartition, Long> now = endOffsets();
        if (now.equals(lastQuiet)) {
            return now;
        }
        final AtomicReference<Map<TopicPartition, Long>> previous = new AtomicReference<>(now);
        final AtomicInteger stable = new AtomicInteger();
        await().atMost(Duration.ofMinutes(2)).pollDelay(Duration.ofMillis(300)).pollInterval(Duration.ofMillis(300))
            .until(() -> {
                final Map<TopicPartition, Long> current = endOffsets();
                if (current.equals(previous.getAndSet(current))) {
                    return stable.incrementAndGet() >= 3;
                }
                stable.set(0);
                return false;
            });
        lastQuiet = previous.get();
        return lastQuiet;
    }

    /** The service's group has committed past every record of its inputs and repartition topics. */
    private static void awaitStreamsCaughtUp() {
        try {
            final Set<String> read = new HashSet<>(List.of(REQUESTS, PREFIX + "profiles"));
            kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS).stream()
                .filter(name -> name.startsWith(APP_ID) && name.endsWith("-repartition")).forEach(read::add);
            kafka.admin().listConsumerGroupOffsets(APP_ID).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                .keySet().forEach(partition -> read.add(partition.topic()));
            assertThat(ConsumerLag.awaitCaughtUp(kafka.admin(), APP_ID, read, Duration.ofMinutes(2)))
                .as("the service caught up on %s", read).isTrue();
        } catch (final Exception e) {
            throw new AssertionError("cannot measure the service's lag", e);
        }
    }

    /** The end offset of every partition of every topic of the service (its prefix and its internal topics). */
    private static Map<TopicPartition, Long> endOffsets() {
        return endOffsets(name -> name.startsWith(APP_ID));
    }

    private static Map<TopicPartition, Long> requestsEndOffsets() {
        return endOffsets(REQUESTS::equals);
    }

    private static Map<TopicPartition, Long> endOffsets(final Predicate<String> topics) {
        try {
            final Set<String> names = kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS).stream()
                .filter(topics).collect(Collectors.toSet());
            final Map<String, TopicDescription> described = kafka.admin().describeTopics(names).allTopicNames()
                .get(30, TimeUnit.SECONDS);
            final Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            described.values().forEach(topic -> topic.partitions().forEach(p ->
                latest.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.latest())));
            return kafka.admin().listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (final ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the end offsets", e);
        }
    }

    /** Requests records (read_committed) after the given offsets, in partition then offset order. */
    private static List<ConsumerRecord<String, CohortSyncRequest>> appendedRequests(
        final Map<TopicPartition, Long> before) {
        awaitTransactionsSettled(before.keySet());
        try (KafkaConsumer<String, CohortSyncRequest> consumer = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(),
            deserializer(CohortSyncRequest.class))) {
            consumer.assign(before.keySet());
            before.forEach(consumer::seek);
            final Map<TopicPartition, Long> end = consumer.endOffsets(before.keySet());
            final List<ConsumerRecord<String, CohortSyncRequest>> records = new ArrayList<>();
            final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
                assertThat(System.nanoTime()).as("reading " + REQUESTS + " to its end").isLessThan(deadline);
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
            return records;
        }
    }

    private static <V extends SpecificRecord> List<ConsumerRecord<String, V>> readCommitted(final String topic,
                                                                                           final Class<V> type) {
        if (topic.equals(REQUESTS)) {
            awaitTransactionsSettled(requestsEndOffsets().keySet());
        }
        return TopicContents.readToEnd(kafka.bootstrapServers(), topic, deserializer(type));
    }

    /**
     * A 200 means the webhook's transaction committed, but the commit markers that make its records visible to
     * read_committed readers are written a moment later (and a transaction the test made the broker refuse is
     * aborted only after its timeout): wait until read_committed readers see as far as the log goes.
     */
    private static void awaitTransactionsSettled(final Collection<TopicPartition> partitions) {
        try (KafkaConsumer<byte[], byte[]> committed = rawConsumer("read_committed");
             KafkaConsumer<byte[], byte[]> everything = rawConsumer("read_uncommitted")) {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() ->
                committed.endOffsets(partitions).equals(everything.endOffsets(partitions)));
        }
    }

    private static KafkaConsumer<byte[], byte[]> rawConsumer(final String isolation) {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static List<PartnerSyncEvent> eventsOf(final String cohortId) {
        return readCommitted(PREFIX + "partner-sync", PartnerSyncEvent.class).stream().map(ConsumerRecord::value)
            .filter(e -> cohortId.equals(e.getProperties().get("Partner Segment ID"))).toList();
    }

    private static List<PartnerSyncEvent> awaitEvents(final String cohortId, final int count) {
        final AtomicReference<List<PartnerSyncEvent>> events = new AtomicReference<>();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() -> {
            events.set(eventsOf(cohortId));
            return events.get().size() >= count;
        });
        return events.get();
    }

    private static List<SyncReport> reportsOf(final String key) {
        return readCommitted(PREFIX + "sync-reports", SyncReport.class).stream().filter(r -> key.equals(r.key()))
            .map(ConsumerRecord::value).toList();
    }

    private static SyncReport awaitReport(final String key, final String messageId) {
        final AtomicReference<SyncReport> report = new AtomicReference<>();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() -> {
            reportsOf(key).stream().filter(r -> r.getMessageId().equals(messageId) && !r.getDuplicate()).findFirst()
                .ifPresent(report::set);
            return report.get() != null;
        });
        return report.get();
    }

    private static List<String> deadLetterKeys() {
        return readCommitted(PREFIX + "dlq", DeadLetter.class).stream().map(r -> r.value().getKey() == null ? ""
            : StandardCharsets.UTF_8.decode(r.value().getKey().duplicate()).toString()).toList();
    }

    private static <V extends SpecificRecord> Deserializer<V> deserializer(final Class<V> type) {
        return ConfluentAvroSerde.specific(type, Map.of("schema.registry.url", "mock://" + SCOPE), false)
            .deserializer();
    }

    /** Sets the requests topic's max.message.bytes, waits until the broker applies it; returns the previous value. */
    private static String setRequestsMaxMessageBytes(final String value) throws Exception {
        final ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, REQUESTS);
        final String previous = maxMessageBytes(topic);
        kafka.admin().incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(
            new ConfigEntry("max.message.bytes", value), AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> value.equals(maxMessageBytes(topic)));
        return previous;
    }

    private static String maxMessageBytes(final ConfigResource topic) throws Exception {
        return kafka.admin().describeConfigs(List.of(topic)).all().get(30, TimeUnit.SECONDS).get(topic)
            .get("max.message.bytes").value();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Calls and bodies.

    /** One bad call: what it is, how it is sent, and the documented answer. */
    record Bad(String name, Supplier<HttpTestClient.Response> call, int status, String field, String errorContains,
               Map<String, String> headers, boolean jsonBody) {

        Bad errorContains(final String text) {
            return new Bad(name, call, status, field, text, headers, jsonBody);
        }

        Bad header(final String header, final String value) {
            final Map<String, String> more = new LinkedHashMap<>(headers);
            more.put(header, value);
            return new Bad(name, call, status, field, errorContains, more, jsonBody);
        }

        Bad allow(final String methods) {
            return header("Allow", methods);
        }

        /** HEAD: the same status and headers, no body. */
        Bad noBody() {
            return new Bad(name, call, status, field, errorContains, headers, false);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** One accepted variant: sends a valid body of cohort c-accepted with the given message id. */
    record Good(String name, Function<String, HttpTestClient.Response> call) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Bad bad(final String name, final Supplier<HttpTestClient.Response> call, final int status,
                           final String field) {
        return new Bad(name, call, status, field, null, Map.of(), true);
    }

    private static Good good(final String name, final Function<String, HttpTestClient.Response> call) {
        return new Good(name, call);
    }

    private static Bad json(final String name, final String body) {
        return bad(name, () -> webhook(body), 400, null);
    }

    private static Bad user(final String name, final Consumer<ArrayNode> change, final String field) {
        return bad(name, () -> webhook(mutate(p -> change.accept((ArrayNode) p.get("users")))), 400, field);
    }

    private static Bad auth(final String name, final String... headers) {
        return bad(name, () -> http.post(PATH, validBody(), headers), 401, null);
    }

    private static Bad encoding(final String name, final byte... inserted) {
        return bad(name, () -> webhookAs(JSON, withBytes(inserted)), 400, null).errorContains("UTF-8");
    }

    /** A valid call's body, for the rejections: nothing in it is wrong but the one thing each case changes. */
    private static String validBody() {
        return batch("c-bad", "Bad input", true, COMPUTED, "m-bad", identified("bad-1"), device("bad-dev-1"))
            .toString();
    }

    private static String mutate(final Consumer<ObjectNode> change) {
        final ObjectNode payload = batch("c-bad", "Bad input", true, COMPUTED, "m-bad", identified("bad-1"),
            device("bad-dev-1"));
        change.accept(payload);
        return payload.toString();
    }

    private static String acceptedBody(final String messageId) {
        return batch("c-accepted", "Accepted", true, COMPUTED, messageId, identified("ok-" + messageId)).toString();
    }

    private static String mutateAccepted(final String messageId, final Consumer<ObjectNode> change) {
        final ObjectNode payload = batch("c-accepted", "Accepted", true, COMPUTED, messageId,
            identified("ok-" + messageId));
        change.accept(payload);
        return payload.toString();
    }

    /** 3,001 users: the first part is small, the second holds one user with a 1.1 MB property. */
    private static String oversizedSecondPart() {
        final ArrayNode users = HttpTestClient.JSON.createArrayNode();
        IntStream.range(0, MEMBERS_PER_RECORD).forEach(i -> users.add(device("big-dev-" + i)));
        final ObjectNode big = device("big-dev-last");
        ((ObjectNode) big.get("user_properties")).put("blob", "x".repeat(1_100_000));
        users.add(big);
        final ObjectNode payload = batch("c-bad", "Bad input", true, COMPUTED, "m-bad");
        payload.set("users", users);
        return payload.toString();
    }

    /** The valid body with {@code inserted} bytes inside the cohort name. */
    private static byte[] withBytes(final byte... inserted) {
        final String[] halves = validBody().split("Bad input", 2);
        return concat(concat(bytes(halves[0] + "Bad"), inserted), bytes("input" + halves[1]));
    }

    /** {@code body} followed by spaces (insignificant in JSON) up to exactly {@code size} bytes. */
    private static byte[] padded(final String body, final int size) {
        final byte[] json = bytes(body);
        final byte[] padded = Arrays.copyOf(json, size);
        Arrays.fill(padded, json.length, size, (byte) ' ');
        return padded;
    }

    private static JsonNode json(final String text) {
        try {
            return HttpTestClient.JSON.readTree(text);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] gzip(final String text) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
            zip.write(bytes(text));
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static String randomLetters(final Random random, final int length) {
        final StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append((char) ('a' + random.nextInt(26)));
        }
        return text.toString();
    }

    private static byte[] bytes(final String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(final byte[] first, final byte[] second) {
        final byte[] both = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        return both;
    }

    private static String[] authJson() {
        return new String[] {"Content-Type", JSON, ACCOUNT, "demo", PASSCODE, FaultSecrets.PASSCODE};
    }

    private static HttpRequest.Builder request(final String path) {
        return HttpRequest.newBuilder(URI.create(http.base() + path));
    }

    private static HttpTestClient.Response webhook(final String body) {
        return http.post(PATH, body, authJson());
    }

    /** With the account's passcode, the given Content-Type (none when null) and extra headers. */
    private static HttpTestClient.Response webhookAs(final String contentType, final byte[] body,
                                                     final String... extra) {
        final List<String> headers = new ArrayList<>(List.of(ACCOUNT, "demo", PASSCODE, FaultSecrets.PASSCODE));
        if (contentType != null) {
            headers.addAll(List.of("Content-Type", contentType));
        }
        headers.addAll(List.of(extra));
        return http.send(request(PATH).POST(HttpRequest.BodyPublishers.ofByteArray(body)),
            headers.toArray(String[]::new));
    }

    /** Without a length: the JDK client sends it chunked. */
    private static HttpTestClient.Response chunked(final byte[] body) {
        return http.send(request(PATH).POST(HttpRequest.BodyPublishers.ofInputStream(
            () -> new ByteArrayInputStream(body))), authJson());
    }

    private static String rawAuth() {
        return "Host: 127.0.0.1\r\nContent-Type: application/json\r\n" + ACCOUNT + ": demo\r\n" + PASSCODE + ": "
            + FaultSecrets.PASSCODE + "\r\n";
    }

    /** A POST head with the given authentication lines and the body's length added by {@link #raw}. */
    private static String postHead(final String authLines) {
        return "POST " + PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + authLines;
    }

    private static HttpTestClient.Response raw(final String head, final byte[] body) {
        final String length = head.toLowerCase(Locale.ROOT).contains("content-length:")
            || head.toLowerCase(Locale.ROOT).contains("transfer-encoding:") ? "" : "Content-Length: " + body.length
            + "\r\n";
        return RawHttp.exchange(service.httpPort(), head + length + "Connection: close\r\n\r\n", body, false);
    }

    private static HttpTestClient.Response rawHalfClosed(final String head, final byte[] body) {
        return RawHttp.exchange(service.httpPort(), head + "Connection: close\r\n\r\n", body, true);
    }

    /** Random damage to a valid body: flipped, inserted, deleted, duplicated bytes and swapped JSON values. */
    static final class Mutations {

        private static final List<String> VALUES = List.of("null", "true", "-1", "1e309", "\"\"", "[]", "{}",
            "\"\\ud800\"", "\"a|b\"", "999999999999999", "\"\\u0000\"", "0.5", "[[[[[[[[]]]]]]]]", "\"\\\"\"",
            "{\"user_id\":1}");
        private static final byte[] SPECIAL = {'"', '\\', '{', '}', '[', ']', ',', ':', 0, '\n', (byte) 0x80,
            (byte) 0xC3, (byte) 0xFF, (byte) 0xED};

        private Mutations() {
        }

        static byte[] apply(final Random random, final byte[] body) {
            byte[] mutated = body;
            final int count = 1 + random.nextInt(3);
            for (int i = 0; i < count; i++) {
                mutated = once(random, mutated);
            }
            return mutated;
        }

        private static byte[] once(final Random random, final byte[] body) {
            if (body.length == 0) {
                return new byte[] {SPECIAL[random.nextInt(SPECIAL.length)]};
            }
            final int at = random.nextInt(body.length);
            return switch (random.nextInt(6)) {
                case 0 -> {
                    final byte[] copy = body.clone();
                    copy[at] = random.nextBoolean() ? SPECIAL[random.nextInt(SPECIAL.length)]
                        : (byte) random.nextInt(256);
                    yield copy;
                }
                case 1 -> concat(concat(Arrays.copyOf(body, at), new byte[] {SPECIAL[random.nextInt(SPECIAL.length)]}),
                    Arrays.copyOfRange(body, at, body.length));
                case 2 -> concat(Arrays.copyOf(body, at), Arrays.copyOfRange(body, Math.min(body.length,
                    at + 1 + random.nextInt(8)), body.length));
                case 3 -> Arrays.copyOf(body, at);
                case 4 -> concat(Arrays.copyOf(body, at),
                    Arrays.copyOfRange(body, random.nextInt(at + 1), body.length));
                default -> swapValue(random, body);
            };
        }

        /** Replaces the value after one random ':' with one of {@link #VALUES}. */
        private static byte[] swapValue(final Random random, final byte[] body) {
            final String text = new String(body, StandardCharsets.UTF_8);
            final List<Integer> colons = IntStream.range(0, text.length()).filter(i -> text.charAt(i) == ':').boxed()
                .toList();
            if (colons.isEmpty()) {
                return body;
            }
            final int colon = colons.get(random.nextInt(colons.size()));
            int end = colon + 1;
            int depth = 0;
            boolean inString = false;
            for (; end < text.length(); end++) {
                final char c = text.charAt(end);
                if (inString) {
                    if (c == '\\') {
                        end++;
                    } else if (c == '"') {
                        inString = false;
                    }
                } else if (c == '"') {
                    inString = true;
                } else if (c == '{' || c == '[') {
                    depth++;
                } else if (c == '}' || c == ']') {
                    if (depth == 0) {
                        break;
                    }
                    depth--;
                } else if (c == ',' && depth == 0) {
                    break;
                }
            }
            return bytes(text.substring(0, colon + 1) + VALUES.get(random.nextInt(VALUES.size()))
                + text.substring(Math.min(end, text.length())));
        }
    }
}
