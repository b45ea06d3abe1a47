package io.cohortsync.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortsync.avro.Member;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RestSchemaRegistryClientTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MEMBER_ID = 7;
    private static final Member MEMBER = Member.newBuilder().setUserId("u1").build();

    /** Knows Member as id 7 under any subject; 40403 for every other id. */
    private static FakeRegistryServer.Answer memberRegistry(final FakeRegistryServer.Request request) {
        if (request.method().equals("POST") && request.path().matches("/subjects/[^/]+(/versions)?")) {
            return new FakeRegistryServer.Answer(200, "{\"id\":" + MEMBER_ID + "}");
        }
        if (request.path().equals("/schemas/ids/" + MEMBER_ID)) {
            return new FakeRegistryServer.Answer(200, schemaJson());
        }
        if (request.path().startsWith("/schemas/ids/")) {
            return new FakeRegistryServer.Answer(404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
        }
        return new FakeRegistryServer.Answer(404, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}");
    }

    private static String schemaJson() {
        try {
            return JSON.writeValueAsString(Map.of("schema", Member.SCHEMA$.toString()));
        } catch (final IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> configs(final String url) {
        final Map<String, Object> configs = new HashMap<>();
        configs.put(SchemaRegistryConfig.SCHEMA_REGISTRY_URL, url);
        return configs;
    }

    @Test
    void registersWithTheConfluentContentTypeAndBasicAuth() throws Exception {
        try (FakeRegistryServer server = new FakeRegistryServer(RestSchemaRegistryClientTest::memberRegistry)) {
            final Map<String, Object> configs = configs(server.url());
            configs.put(SchemaRegistryConfig.BASIC_AUTH_USER_INFO, "alice:s3cr3t");

            final byte[] bytes = ConfluentAvroSerde.specific(Member.class, configs, false).serializer()
                    .serialize("members", MEMBER);

            assertThat(bytes).startsWith(0, 0, 0, 0, MEMBER_ID);
            final FakeRegistryServer.Request request = server.requests().get(0);
            assertThat(request.method()).isEqualTo("POST");
            assertThat(request.path()).isEqualTo("/subjects/members-value/versions");
            assertThat(request.contentType()).isEqualTo("application/vnd.schemaregistry.v1+json");
            assertThat(request.authorization()).isEqualTo("Basic " + Base64.getEncoder()
                    .encodeToString("alice:s3cr3t".getBytes(StandardCharsets.UTF_8)));
            assertThat(JSON.readTree(request.body()).get("schema").asText()).isEqualTo(Member.SCHEMA$.toString());
        }
    }

    @Test
    void takesBasicAuthFromTheUrlWhenNoUserInfoIsSet() {
        try (FakeRegistryServer server = new FakeRegistryServer(RestSchemaRegistryClientTest::memberRegistry)) {
            final String url = server.url().replace("http://", "http://bob:pa%40ss@");

            ConfluentAvroSerde.specific(Member.class, configs(url), false).serializer().serialize("members", MEMBER);

            assertThat(server.requests().get(0).authorization()).isEqualTo("Basic " + Base64.getEncoder()
                    .encodeToString("bob:pa@ss".getBytes(StandardCharsets.UTF_8)));
        }
    }

    @Test
    void answersRepeatedCallsFromTheCache() {
        try (FakeRegistryServer server = new FakeRegistryServer(RestSchemaRegistryClientTest::memberRegistry)) {
            final ConfluentAvroSerde<Member> writer = ConfluentAvroSerde.specific(Member.class, configs(server.url()), false);
            final ConfluentAvroSerde<Member> reader = ConfluentAvroSerde.specific(Member.class, configs(server.url()), false);

            final byte[] first = writer.serializer().serialize("members", MEMBER);
            writer.serializer().serialize("members", MEMBER);
            assertThat(server.requests()).hasSize(1);

            assertThat(reader.deserializer().deserialize("members", first)).isEqualTo(MEMBER);
            assertThat(reader.deserializer().deserialize("members", first)).isEqualTo(MEMBER);
            assertThat(server.requests()).hasSize(2);
            assertThat(server.requests().get(1).path()).isEqualTo("/schemas/ids/" + MEMBER_ID);

            // The writer's own client learned id 7's schema when registering it.
            assertThat(writer.deserializer().deserialize("members", first)).isEqualTo(MEMBER);
            assertThat(server.requests()).hasSize(2);
        }
    }

    @Test
    void mapsError40403ToUnknownSchemaId() {
        try (FakeRegistryServer server = new FakeRegistryServer(RestSchemaRegistryClientTest::memberRegistry)) {
            final ConfluentAvroSerde<Member> serde = ConfluentAvroSerde.specific(Member.class, configs(server.url()), false);

            assertThatThrownBy(() -> serde.deserializer().deserialize("members", new byte[] {0, 0, 0, 0, 99, 0}))
                    .isInstanceOf(UnknownSchemaIdException.class)
                    .hasMessageContaining("99")
                    .hasMessageContaining("40403");
        }
    }

    @Test
    void unreachableRegistryNamesTheUrlButNoCredentials() throws Exception {
        final int closedPort = closedPort();
        final Map<String, Object> configs = configs("http://user:secret@127.0.0.1:" + closedPort + "/");
        configs.put(SchemaRegistryConfig.BASIC_AUTH_USER_INFO, "alice:s3cr3t");
        final ConfluentAvroSerde<Member> serde = ConfluentAvroSerde.specific(Member.class, configs, false);

        assertThatThrownBy(() -> serde.serializer().serialize("members", MEMBER))
                .isInstanceOf(SchemaRegistryUnavailableException.class)
                .hasMessageContaining("http://127.0.0.1:" + closedPort)
                .satisfies(e -> assertThat(fullText(e)).doesNotContain("secret", "s3cr3t", "alice", "user:"))
                .satisfies(e -> assertThat(((SchemaRegistryUnavailableException) e).isRetryable()).isTrue());
        assertThat(new SchemaRegistryConfig(configs).toString()).doesNotContain("secret", "s3cr3t", "alice");
    }

    @Test
    void triesTheNextUrlWhenOneIsDown() throws Exception {
        try (FakeRegistryServer server = new FakeRegistryServer(RestSchemaRegistryClientTest::memberRegistry)) {
            final String urls = "http://127.0.0.1:" + closedPort() + "," + server.url();

            final byte[] bytes = ConfluentAvroSerde.specific(Member.class, configs(urls), false).serializer()
                    .serialize("members", MEMBER);

            assertThat(bytes).startsWith(0, 0, 0, 0, MEMBER_ID);
        }
    }

    @Test
    void treatsServerErrorsAndTimeoutsAsUnavailable() {
        try (FakeRegistryServer failing = new FakeRegistryServer(
                request -> new FakeRegistryServer.Answer(503, "{\"error_code\":50301,\"message\":\"backend down\"}"))) {
            assertThatThrownBy(() -> ConfluentAvroSerde.specific(Member.class, configs(failing.url()), false)
                    .serializer().serialize("members", MEMBER))
                    .isInstanceOf(SchemaRegistryUnavailableException.class)
                    .hasMessageContaining("503")
                    .hasMessageContaining("backend down");
        }
        final CountDownLatch clientGaveUp = new CountDownLatch(1);
        try (FakeRegistryServer slow = new FakeRegistryServer(request -> {
            awaitQuietly(clientGaveUp);
            return new FakeRegistryServer.Answer(200, "{\"id\":1}");
        })) {
            final Map<String, Object> configs = configs(slow.url());
            configs.put(SchemaRegistryConfig.REQUEST_TIMEOUT_MS, 200);
            assertThatThrownBy(() -> ConfluentAvroSerde.specific(Member.class, configs, false)
                    .serializer().serialize("members", MEMBER))
                    .isInstanceOf(SchemaRegistryUnavailableException.class)
                    .hasMessageContaining("HttpTimeoutException");
            clientGaveUp.countDown();
        }
    }

    @Test
    void aRegistryThatAnswersBusyIsAskedAgainTwiceBeforeTheCallFails() {
        final AtomicInteger calls = new AtomicInteger();
        try (FakeRegistryServer server = new FakeRegistryServer(request -> calls.incrementAndGet() <= 2
                ? new FakeRegistryServer.Answer(503, "{\"error_code\":50301,\"message\":\"busy\"}")
                : memberRegistry(request))) {
            final byte[] bytes = ConfluentAvroSerde.specific(Member.class, configs(server.url()), false).serializer()
                    .serialize("members", MEMBER);

            assertThat(bytes).startsWith(0, 0, 0, 0, MEMBER_ID);
            assertThat(server.requests()).hasSize(3);
        }
    }

    @Test
    void reportsOtherClientErrorsWithTheRegistryErrorCode() {
        try (FakeRegistryServer server = new FakeRegistryServer(request -> new FakeRegistryServer.Answer(409,
                "{\"error_code\":409,\"message\":\"Schema being registered is incompatible with an earlier schema\"}"))) {
            assertThatThrownBy(() -> ConfluentAvroSerde.specific(Member.class, configs(server.url()), false)
                    .serializer().serialize("members", MEMBER))
                    .isInstanceOf(SchemaRegistryException.class)
                    .hasMessageContaining("incompatible")
                    .satisfies(e -> assertThat(((SchemaRegistryException) e).errorCode()).isEqualTo(409));
        }
    }

    @Test
    void lookupOfAnUnregisteredSchemaIsUnknownSchema() {
        try (FakeRegistryServer server = new FakeRegistryServer(request -> new FakeRegistryServer.Answer(404,
                "{\"error_code\":40401,\"message\":\"Subject 'members-value' not found.\"}"))) {
            final Map<String, Object> configs = configs(server.url());
            configs.put(SchemaRegistryConfig.AUTO_REGISTER_SCHEMAS, false);

            assertThatThrownBy(() -> ConfluentAvroSerde.specific(Member.class, configs, false)
                    .serializer().serialize("members", MEMBER))
                    .isInstanceOf(UnknownSchemaException.class)
                    .hasMessageContaining("members-value");
            assertThat(server.requests().get(0).path()).isEqualTo("/subjects/members-value");
        }
    }

    @Test
    void aNotFoundWithoutARegistryErrorCodeIsAWrongUrlNotAnUnknownSchemaId() {
        // What Apicurio answers when the URL lacks /apis/ccompat/v7: every record would otherwise be "unknown".
        try (FakeRegistryServer server = new FakeRegistryServer(request -> new FakeRegistryServer.Answer(404,
                "{\"error_code\":404,\"message\":\"RESTEASY003210: Could not find resource for full path\"}"))) {
            assertThatThrownBy(() -> ConfluentAvroSerde.specific(Member.class, configs(server.url()), false)
                    .deserializer().deserialize("members", new byte[] {0, 0, 0, 0, 7, 0}))
                    .isInstanceOf(SchemaRegistryRefusedException.class)
                    .hasMessageContaining("/apis/ccompat/v7")
                    .satisfies(e -> assertThat(((SchemaRegistryRefusedException) e).httpStatus()).isEqualTo(404));
        }
    }

    @Test
    void refusedCredentialsAndRedirectsAreTheConfigurationsFaultAndRetryable() {
        for (final int status : new int[] {401, 403, 301, 307}) {
            try (FakeRegistryServer server = new FakeRegistryServer(request -> new FakeRegistryServer.Answer(status,
                    "{\"error_code\":" + status + ",\"message\":\"no\"}"))) {
                final Map<String, Object> configs = configs(server.url());
                configs.put(SchemaRegistryConfig.BASIC_AUTH_USER_INFO, "alice:s3cr3t");
                assertThatThrownBy(() -> ConfluentAvroSerde.specific(Member.class, configs, false)
                        .serializer().serialize("members", MEMBER))
                        .as("HTTP %d", status)
                        .isInstanceOf(SchemaRegistryRefusedException.class)
                        .hasMessageContaining("HTTP " + status)
                        .hasMessageContaining(status < 400 ? "redirected" : "credentials")
                        .satisfies(e -> assertThat(fullText(e)).doesNotContain("s3cr3t"));
            }
        }
    }

    @Test
    void throttlingAndRequestTimeoutAnswersAreAnOutageAndTheNextUrlIsTried() {
        for (final int status : new int[] {408, 429}) {
            try (FakeRegistryServer throttling = new FakeRegistryServer(request -> new FakeRegistryServer.Answer(
                    status, "{\"error_code\":" + status + ",\"message\":\"slow down\"}"));
                 FakeRegistryServer healthy = new FakeRegistryServer(RestSchemaRegistryClientTest::memberRegistry)) {
                assertThatThrownBy(() -> ConfluentAvroSerde.specific(Member.class, configs(throttling.url()), false)
                        .serializer().serialize("members", MEMBER))
                        .isInstanceOf(SchemaRegistryUnavailableException.class)
                        .isNotInstanceOf(SchemaRegistryRefusedException.class)
                        .hasMessageContaining("slow down");

                final byte[] bytes = ConfluentAvroSerde.specific(Member.class,
                        configs(throttling.url() + "," + healthy.url()), false).serializer().serialize("members", MEMBER);
                assertThat(bytes).startsWith(0, 0, 0, 0, MEMBER_ID);
            }
        }
    }

    @Test
    void readsRecordsOfASchemaWhoseDefaultDoesNotMatchItsTypeAsConfluentDoes() throws Exception {
        // Confluent's registry accepts such a schema unless avro.validate.defaults is on; Avro's parser would refuse it.
        final String lenient = "{\"type\":\"record\",\"name\":\"Lenient\",\"namespace\":\"t\",\"fields\":"
                + "[{\"name\":\"count\",\"type\":\"long\",\"default\":null}]}";
        final String answer = JSON.writeValueAsString(Map.of("schema", lenient));
        try (FakeRegistryServer server = new FakeRegistryServer(request -> new FakeRegistryServer.Answer(200, answer))) {
            final ConfluentAvroDeserializer<Object> deserializer = new ConfluentAvroDeserializer<>();
            deserializer.configure(configs(server.url()), false);

            final Object record = deserializer.deserialize("t", new byte[] {0, 0, 0, 0, 3, 84});

            assertThat(record).hasToString("{\"count\": 42}");
        }
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    private static String fullText(final Throwable error) {
        final StringBuilder text = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause()) {
            text.append(t).append('\n');
        }
        return text.toString();
    }

    /** Holds a fake answer back until the test has seen the client time out (bounded, so a failing test ends). */
    private static void awaitQuietly(final CountDownLatch latch) {
        try {
            latch.await(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
