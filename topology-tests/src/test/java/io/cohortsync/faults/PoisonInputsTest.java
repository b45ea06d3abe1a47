package io.cohortsync.faults;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.EngagementEvent;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncType;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.deadletter.ReasonCode;
import io.cohortsync.export.AmplitudeExporter;
import io.cohortsync.export.Endpoint;
import io.cohortsync.export.EventSelection;
import io.cohortsync.export.ExportSettings;
import io.cohortsync.export.ExporterSettings;
import io.cohortsync.export.Residency;
import io.cohortsync.export.Secret;
import io.cohortsync.export.emulator.AmplitudeEmulator;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.ingest.IngestTopology;
import io.cohortsync.membership.MembershipTopology;
import io.cohortsync.membership.ProfileSegmentsTopology;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.runtime.ConsumerLag;
import io.cohortsync.runtime.TopicBootstrapper;
import io.cohortsync.serde.testing.ApicurioRegistry;
import io.cohortsync.testing.KafkaTestCluster;
import io.cohortsync.testing.TestDirs;
import io.cohortsync.topology.Topic;
import io.cohortsync.topology.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Suite 3, "Poison inputs": on every Kafka topic cohort-sync reads (requests, profiles, engagement-events and
 * partner-sync for the Streams topology; amplitude-export for the exporter), each kind of poison record is produced
 * between good records on one partition: random bytes, an unknown schema id, a known schema id of another record
 * type, a valid record with empty required values, a record over {@code ingest.max-record-bytes} (sized close to
 * what the topic accepts, the worst case for its dead letter), and a record for an account that is not configured.
 *
 * <p>Each test checks that every poison record is in the dead-letter topic exactly once, with its reason code, key,
 * bytes and the topic/partition/offset the producer got back; that the dead-letter topic holds nothing else; that
 * the good records around it had their effect; and that the service is still running without a replaced thread.
 *
 * <p>One service, broker, registry (Apicurio, as in production) and Amplitude emulator serve the whole class; the
 * tests run in order and each one also checks the dead letters of those before it. {@code -Dcohort-sync.soak=true}
 * repeats every topic's sequence of poison records {@value #SOAK_ROUNDS} times instead of once.
 */
@ExtendWith(SecretScan.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PoisonInputsTest {

    private static final int SOAK_ROUNDS = 100;
    private static final int ROUNDS = Soak.pick(1, SOAK_ROUNDS);
    private static final int MAX_RECORD_BYTES = 64 * 1024;
    /** What cohort-sync creates its topics to accept: the record limit plus room for a dead letter around it. */
    private static final int TOPIC_MAX_BYTES = TopicBootstrapper.maxMessageBytes(MAX_RECORD_BYTES);
    /** Not partition 0, so a letter that reported no partition (or a default) would not pass by chance. */
    private static final int PARTITION = 1;
    private static final Instant T = Instant.ofEpochMilli(1_700_000_000_000L);
    private static final Duration OUTPUT_TIMEOUT = Duration.ofMinutes(2);

    private static KafkaTestCluster kafka;
    private static ApicurioRegistry registry;
    private static AmplitudeEmulator emulator;
    private static CohortSyncService service;
    private static Topics topics;
    private static String appId;
    private static KafkaProducer<byte[], byte[]> producer;
    private static ListAppender<ILoggingEvent> serviceLog;
    /** Every poison record produced so far: the dead-letter topic must hold exactly one letter for each. */
    private static final Map<Coordinates, Item> POISONED = new LinkedHashMap<>();

    /** One record to produce; {@code reason} is null for a record that must not be dead-lettered. */
    private record Item(String label, byte[] key, byte[] value, ReasonCode reason) {

        static Item good(final String label, final String key, final byte[] value) {
            return new Item(label, utf8(key), value, null);
        }

        static Item poison(final String label, final String key, final byte[] value, final ReasonCode reason) {
            return new Item(label, utf8(key), value, reason);
        }
    }

    private record Coordinates(String topic, int partition, long offset) {
    }

    private record Produced(Item item, Coordinates at) {
    }

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaTestCluster.start();
        registry = ApicurioRegistry.startNew();
        emulator = AmplitudeEmulator.start(AmplitudeEmulator.Options.accepting(FaultSecrets.API_KEY));
        appId = "poison-" + UUID.randomUUID().toString().substring(0, 8);
        final Path stateDir = TestDirs.create("cohort-sync-poison");
        final Map<String, String> settings = new HashMap<>();
        settings.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        settings.put("schema-registry.url", registry.ccompatUrl());
        settings.put("application-id", appId);
        settings.put("topic-prefix", appId + ".");
        settings.put("topics.replication-factor", "1");
        settings.put("topology.partitions", "2");
        settings.put("state-dir", stateDir.resolve("state").toString());
        settings.put("ingest.max-record-bytes", String.valueOf(MAX_RECORD_BYTES));
        settings.put("streams.commit-interval", "200ms");
        settings.put("http.host", "127.0.0.1");
        settings.put("http.token", FaultSecrets.HTTP_TOKEN);
        settings.put("export.dry-run-file", stateDir.resolve("dry-run.ndjson").toString());
        settings.put("export.linger", "20ms");
        settings.put("export.commit-interval", "200ms");
        final CohortSyncConfig config = CohortSyncConfig.of(settings, accounts(emulator));
        serviceLog = new ListAppender<>();
        serviceLog.start();
        // StreamThreadFailures logs a failed (and replaced) stream thread at ERROR; the service its own failures.
        ((Logger) LoggerFactory.getLogger(CohortSyncService.class)).addAppender(serviceLog);
        ((Logger) LoggerFactory.getLogger("io.cohortsync.runtime.StreamThreadFailures")).addAppender(serviceLog);
        service = CohortSyncService.start(config);
        assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
        topics = service.topics();
        producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
            // Room for the oversized records, which the topics accept and cohort-sync must refuse.
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024), new ByteArraySerializer(),
            new ByteArraySerializer());
    }

    /**
     * {@code ct} imports (and has no export, so its Partner Sync events stay out of Amplitude); {@code ex} exports
     * every event to the emulator. {@code ghost} appears in records but is configured nowhere.
     */
    private static String accounts(final AmplitudeEmulator amplitude) {
        return """
            accounts:
              ct:
                import:
                  policy: CREATE_UNMATCHED
                webhook:
                  passcodes: ["%s"]
              ex:
                webhook:
                  passcodes: ["%s"]
                export:
                  api-key: "%s"
                  base-url: "%s"
                  events: ALL
            """.formatted(FaultSecrets.PASSCODE, FaultSecrets.PASSCODE, FaultSecrets.API_KEY, amplitude.baseUrl());
    }

    @AfterAll
    static void stop() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        if (service != null) {
            service.close();
        }
        ((Logger) LoggerFactory.getLogger(CohortSyncService.class)).detachAppender(serviceLog);
        if (emulator != null) {
            emulator.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    // ------------------------------------------------------------------------------------------------- requests

    @Test
    @Order(1)
    void poisonOnRequestsIsDeadLetteredAndTheBatchesAroundItAreApplied() throws Exception {
        final Topic<String, CohortSyncRequest> requests = topics.requests;
        final List<Item> items = interleave(round -> List.of(
            randomBytes("ct|c-req", round),
            unknownSchemaId("ct|c-req"),
            membersBomb(serialize(requests, request("ct", "c-req", "m-bomb-" + round))),
            Item.poison("a Profile on requests", "ct|c-req",
                serialize(topics.profiles, profile("ct", "p-wrong-" + round, "wrong-" + round, "")),
                ReasonCode.SCHEMA_MISMATCH),
            Item.poison("blank accountId", "|c-req", serialize(requests,
                request("", "c-req", "m-blank-account-" + round, "poison-a-" + round)), ReasonCode.MISSING_ACCOUNT_ID),
            Item.poison("blank cohortId", "ct|", serialize(requests,
                request("ct", "", "m-blank-cohort-" + round, "poison-b-" + round)), ReasonCode.MISSING_COHORT_ID),
            Item.poison("blank messageId", "ct|c-req", serialize(requests,
                request("ct", "c-req", "", "poison-c-" + round)), ReasonCode.MISSING_MESSAGE_ID),
            Item.poison("oversized request", "ct|c-req", oversized(padding -> serialize(requests,
                CohortSyncRequest.newBuilder(request("ct", "c-req", "m-big-" + round, "poison-d-" + round))
                    .setCohortName(padding).build())), ReasonCode.RECORD_TOO_LARGE),
            Item.poison("unknown account", "ghost|c-req", serialize(requests,
                request("ghost", "c-req", "m-ghost-" + round, "poison-e-" + round)), ReasonCode.UNKNOWN_ACCOUNT)),
            (round, index) -> {
                final String identity = "req-member-" + round + "-" + index;
                return Item.good(identity, "ct|c-req",
                    serialize(requests, request("ct", "c-req", "m-" + round + "-" + index, identity)));
            });

        final List<Produced> produced = produce(requests.name(), items);

        final Set<String> expected = goodLabels(produced);
        await().atMost(OUTPUT_TIMEOUT).pollInterval(Duration.ofMillis(250))
            .until(() -> identities(partnerSyncEvents("ct", "c-req")).containsAll(expected));
        awaitImportCaughtUp();
        final List<PartnerSyncEvent> added = partnerSyncEvents("ct", "c-req");
        assertThat(added).extracting(PartnerSyncEvent::getIdentity)
            .as("one Added per member of the good batches, none for a poison one")
            .containsExactlyInAnyOrderElementsOf(expected);
        assertThat(added).allSatisfy(event -> assertThat(event.getProperties()).containsEntry("Action", "Added"));
        assertDeadLettersExactly(requests.name(), produced);
        assertStillRunning();
    }

    // ------------------------------------------------------------------------------------------------- profiles

    @Test
    @Order(2)
    void poisonOnProfilesIsDeadLetteredAndTheProfilesAroundItAreIndexedAndMatched() throws Exception {
        final Topic<String, Profile> profiles = topics.profiles;
        final List<Item> items = interleave(round -> List.of(
            randomBytes("ct|prof-x", round),
            unknownSchemaId("ct|prof-x"),
            stringBomb(serialize(profiles, profile("ct", "prof-x", "prof-bomb-" + round, ""))),
            // Kafka deletes only on a null value: an empty one must not take the good profile before it out.
            Item.poison("empty value", "ct|prof-" + round + "-0", new byte[0], ReasonCode.DESERIALIZATION_FAILED),
            Item.poison("a CohortSyncRequest on profiles", "ct|prof-x",
                serialize(topics.requests, request("ct", "c-prof", "m-wrong-" + round, "wrong-" + round)),
                ReasonCode.SCHEMA_MISMATCH),
            Item.poison("blank accountId", "|prof-blank-" + round,
                serialize(profiles, profile("", "prof-blank-" + round, "prof-poison-a-" + round, "")),
                ReasonCode.MISSING_ACCOUNT_ID),
            Item.poison("blank objectId", "ct|",
                serialize(profiles, profile("ct", "", "prof-poison-b-" + round, "")), ReasonCode.MISSING_OBJECT_ID),
            Item.poison("oversized profile", "ct|prof-big-" + round, oversized(padding -> serialize(profiles,
                profile("ct", "prof-big-" + round, "prof-poison-c-" + round, padding))), ReasonCode.RECORD_TOO_LARGE),
            // Not poison: the profile table follows every account of the platform, configured or not, so an account
            // added to cohort-sync later finds its profiles already indexed. Indexed, not dead-lettered.
            Item.good("ghost profile", "ghost|prof-ghost-" + round,
                serialize(profiles, profile("ghost", "prof-ghost-" + round, "prof-ghost-" + round, "")))),
            (round, index) -> {
                final String objectId = "prof-" + round + "-" + index;
                return Item.good(objectId, "ct|" + objectId,
                    serialize(profiles, profile("ct", objectId, "prof-id-" + round + "-" + index, "")));
            });

        final List<Produced> produced = produce(profiles.name(), items);
        awaitStreamsCaughtUp(profiles.name(), internal(IdentityTopology.INDEX_UPDATES_TOPIC));

        // Match the good profiles (upper case: identities match case-insensitively) and the poison ones' identities:
        // a good one resolves to its profile, a poison one was never indexed, so it makes a new profile.
        final Map<String, String> objectIdByIdentity = new LinkedHashMap<>();
        goodLabels(produced).stream().filter(label -> label.startsWith("prof-"))
            .forEach(objectId -> objectIdByIdentity.put(objectId.replace("prof-", "prof-id-"), objectId));
        final List<String> poisonIdentities = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            poisonIdentities.add("prof-poison-b-" + round);
            poisonIdentities.add("prof-poison-c-" + round);
        }
        final List<String> members = new ArrayList<>();
        objectIdByIdentity.keySet().forEach(identity -> members.add(identity.toUpperCase(Locale.ROOT)));
        members.addAll(poisonIdentities);
        produce(topics.requests.name(), List.of(Item.good("match", "ct|c-prof",
            serialize(topics.requests, request("ct", "c-prof", "m-prof", members.toArray(String[]::new))))));

        await().atMost(OUTPUT_TIMEOUT).pollInterval(Duration.ofMillis(250))
            .until(() -> partnerSyncEvents("ct", "c-prof").size() >= members.size());
        awaitImportCaughtUp();
        final List<PartnerSyncEvent> added = partnerSyncEvents("ct", "c-prof");
        assertThat(added).hasSize(members.size());
        final Map<String, String> resolved = added.stream()
            .collect(Collectors.toMap(event -> event.getIdentity().toLowerCase(Locale.ROOT),
                PartnerSyncEvent::getObjectId));
        objectIdByIdentity.forEach((identity, objectId) ->
            assertThat(resolved).as("good profile %s indexed and matched", objectId).containsEntry(identity, objectId));
        for (int round = 0; round < ROUNDS; round++) {
            assertThat(resolved.get("prof-poison-b-" + round)).as("the blank-objectId profile was not indexed")
                .isNotBlank();
            assertThat(resolved.get("prof-poison-c-" + round)).as("the oversized profile was not indexed")
                .isNotNull().isNotEqualTo("prof-big-" + round);
        }
        assertDeadLettersExactly(profiles.name(), produced);
        assertStillRunning();
    }

    // --------------------------------------------------------------------------------------- engagement-events

    @Test
    @Order(3)
    void poisonOnEngagementEventsIsDeadLetteredAndTheEventsAroundItReachAmplitude() throws Exception {
        final Topic<String, EngagementEvent> engagement = topics.engagementEvents;
        final List<Item> items = interleave(round -> List.of(
            randomBytes("ex|eng-x", round),
            unknownSchemaId("ex|eng-x"),
            // Field by field, a Partner Sync event resolves as an engagement event; only its name tells them apart.
            Item.poison("a PartnerSyncEvent on engagement-events", "ex|eng-wrong-" + round,
                serialize(topics.partnerSync, partnerSync("ex", "eng-wrong-" + round, "eng-wrong-evt-" + round,
                    "c-eng")), ReasonCode.SCHEMA_MISMATCH),
            Item.poison("blank accountId", "|eng-blank-" + round, serialize(engagement,
                engagementEvent("", "eng-blank-" + round, "eng-blank-a-" + round, "Notification Sent")),
                ReasonCode.MISSING_ACCOUNT_ID),
            Item.poison("blank objectId", "ex|", serialize(engagement,
                engagementEvent("ex", "", "eng-blank-b-" + round, "Notification Sent")),
                ReasonCode.MISSING_OBJECT_ID),
            Item.poison("blank eventName", "ex|eng-blank-" + round, serialize(engagement,
                engagementEvent("ex", "eng-blank-" + round, "eng-blank-c-" + round, "")),
                ReasonCode.MISSING_EVENT_NAME),
            Item.poison("oversized event", "ex|eng-big-" + round, oversized(padding -> serialize(engagement,
                EngagementEvent.newBuilder(engagementEvent("ex", "eng-big-" + round, "eng-big-evt-" + round,
                    "Notification Sent")).setProperties(Map.of("padding", padding)).build())),
                ReasonCode.RECORD_TOO_LARGE),
            // Not poison: engagement-events carries every account of the platform; those cohort-sync does not
            // export are skipped unread, by key. Neither exported nor dead-lettered.
            Item.good("ghost event", "ghost|eng-ghost-" + round, serialize(engagement,
                engagementEvent("ghost", "eng-ghost-" + round, "eng-ghost-evt-" + round, "Notification Sent")))),
            (round, index) -> {
                final String eventId = "eng-evt-" + round + "-" + index;
                return Item.good(eventId, "ex|eng-" + round + "-" + index, serialize(engagement,
                    engagementEvent("ex", "eng-" + round + "-" + index, eventId, "Notification Clicked")));
            });

        final List<Produced> produced = produce(engagement.name(), items);

        final Set<String> expected = goodLabels(produced).stream().filter(label -> label.startsWith("eng-evt-"))
            .collect(Collectors.toSet());
        awaitAcceptedByAmplitude(expected);
        assertNotSentToAmplitude("eng-ghost-evt-", "eng-blank-", "eng-big-evt-", "eng-wrong-evt-");
        awaitStreamsCaughtUp(engagement.name());
        assertDeadLettersExactly(engagement.name(), produced);
        assertStillRunning();
    }

    // -------------------------------------------------------------------------------------------- partner-sync

    @Test
    @Order(4)
    void poisonOnPartnerSyncIsDeadLetteredOnceAndTheEventsAroundItAreExportedAndApplied() throws Exception {
        final Topic<String, PartnerSyncEvent> partnerSync = topics.partnerSync;
        final List<Item> items = interleave(round -> List.of(
            randomBytes("ex|ps-x", round),
            unknownSchemaId("ex|ps-x"),
            Item.poison("an EngagementEvent on partner-sync", "ex|ps-wrong-" + round,
                serialize(topics.engagementEvents, engagementEvent("ex", "ps-wrong-" + round,
                    "ps-wrong-evt-" + round, "Partner Sync")), ReasonCode.SCHEMA_MISMATCH),
            Item.poison("blank accountId", "|ps-blank-" + round, serialize(partnerSync,
                partnerSync("", "ps-blank-" + round, "ps-blank-a-" + round, "c-ps")), ReasonCode.MISSING_ACCOUNT_ID),
            Item.poison("blank objectId", "ex|", serialize(partnerSync,
                partnerSync("ex", "", "ps-blank-b-" + round, "c-ps")), ReasonCode.MISSING_OBJECT_ID),
            Item.poison("blank Partner Segment ID", "ex|ps-blank-" + round, serialize(partnerSync,
                partnerSync("ex", "ps-blank-" + round, "ps-blank-c-" + round, "")), ReasonCode.MISSING_COHORT_ID),
            Item.poison("oversized event", "ex|ps-big-" + round, oversized(padding -> serialize(partnerSync,
                PartnerSyncEvent.newBuilder(partnerSync("ex", "ps-big-" + round, "ps-big-evt-" + round, "c-ps"))
                    .setIdentity(padding).build())), ReasonCode.RECORD_TOO_LARGE),
            // Not poison: partner-sync is cohort-sync's own output; an event of an account that is not configured
            // (since removed, say) is kept in the profile-segments view like any other, and not exported.
            Item.good("ghost event", "ghost|ps-ghost-" + round,
                serialize(partnerSync, partnerSync("ghost", "ps-ghost-" + round, "ps-ghost-evt-" + round, "c-ps")))),
            (round, index) -> {
                final String objectId = "ps-" + round + "-" + index;
                return Item.good(objectId, "ex|" + objectId,
                    serialize(partnerSync, partnerSync("ex", objectId, "ps-evt-" + round + "-" + index, "c-ps")));
            });

        final List<Produced> produced = produce(partnerSync.name(), items);

        final Set<String> goodObjectIds = goodLabels(produced).stream().filter(label -> label.startsWith("ps-"))
            .collect(Collectors.toSet());
        awaitAcceptedByAmplitude(goodObjectIds.stream().map(objectId -> objectId.replace("ps-", "ps-evt-"))
            .collect(Collectors.toSet()));
        assertNotSentToAmplitude("ps-ghost-evt-", "ps-blank-", "ps-big-evt-", "ps-wrong-evt-");
        awaitStreamsCaughtUp(partnerSync.name());
        final ReadOnlyKeyValueStore<String, Object> segments = service.streams().store(StoreQueryParameters
            .fromNameAndType(ProfileSegmentsTopology.STORE, QueryableStoreTypes.<String, Object>keyValueStore()));
        goodObjectIds.forEach(objectId -> assertThat(segments.get("ex|" + objectId + "|c-ps"))
            .as("profile-segments applied %s", objectId).isNotNull());
        for (int round = 0; round < ROUNDS; round++) {
            assertThat(segments.get("ghost|ps-ghost-" + round + "|c-ps")).isNotNull();
            assertThat(segments.get("ex|ps-big-" + round + "|c-ps")).as("the oversized event was not applied").isNull();
            assertThat(segments.get("|ps-blank-" + round + "|c-ps")).isNull();
            assertThat(segments.get("ex||c-ps")).isNull();
            assertThat(segments.get("ex|ps-blank-" + round + "|")).isNull();
        }
        assertDeadLettersExactly(partnerSync.name(), produced);
        assertStillRunning();
    }

    // ---------------------------------------------------------------------------------------- amplitude-export

    @Test
    @Order(5)
    void poisonOnTheExportTopicIsDeadLetteredAndTheEventsAroundItReachAmplitude() throws Exception {
        final Topic<String, AmplitudeEvent> export = topics.amplitudeExport;
        final List<Item> items = interleave(round -> List.of(
            randomBytes("ex|amp-x", round),
            unknownSchemaId("ex|amp-x"),
            Item.poison("an EngagementEvent on amplitude-export", "ex|amp-wrong-" + round,
                serialize(topics.engagementEvents, engagementEvent("ex", "amp-wrong-" + round,
                    "amp-wrong-ins-" + round, "Notification Sent")), ReasonCode.SCHEMA_MISMATCH),
            Item.poison("blank account_id", "|amp-blank-" + round,
                serialize(export, amplitudeEvent("", "amp-blank-" + round, "amp-blank-a-" + round)),
                ReasonCode.MISSING_ACCOUNT_ID),
            // The exporter sends what Amplitude decides on: it answers 400 naming the event, which is dead-lettered
            // with Amplitude's reason while the rest of the request is sent again.
            Item.poison("blank event_type, user_id and insert_id", "ex|amp-blank-" + round,
                serialize(export, AmplitudeEvent.newBuilder(amplitudeEvent("ex", "", "")).setEventType("").build()),
                ReasonCode.AMPLITUDE_REJECTED),
            Item.poison("oversized event", "ex|amp-big-" + round, oversized(padding -> serialize(export,
                AmplitudeEvent.newBuilder(amplitudeEvent("ex", "amp-big-" + round, "amp-big-ins-" + round))
                    .setEventProperties(Map.of("padding", padding)).build())), ReasonCode.RECORD_TOO_LARGE),
            Item.poison("unknown account", "ghost|amp-ghost-" + round,
                serialize(export, amplitudeEvent("ghost", "amp-ghost-" + round, "amp-ghost-ins-" + round)),
                ReasonCode.UNKNOWN_ACCOUNT)),
            (round, index) -> {
                final String insertId = "amp-ins-" + round + "-" + index;
                return Item.good(insertId, "ex|amp-user-" + round + "-" + index,
                    serialize(export, amplitudeEvent("ex", "amp-user-" + round + "-" + index, insertId)));
            });

        final List<Produced> produced = produce(export.name(), items);

        awaitAcceptedByAmplitude(goodLabels(produced));
        assertNotSentToAmplitude("amp-ghost-ins-", "amp-blank-", "amp-big-ins-", "amp-wrong-ins-");
        assertThat(emulator.accepted()).as("the event with blank fields").noneMatch(accepted ->
            accepted.insertId() == null || accepted.insertId().isEmpty());
        final String group = service.config().exportGroupId();
        final TopicPartition partition = new TopicPartition(export.name(), PARTITION);
        final long end = produced.get(produced.size() - 1).at().offset() + 1;
        // The exporter commits past a record only once its dead letter is acknowledged: then all are written.
        await().atMost(OUTPUT_TIMEOUT).pollInterval(Duration.ofMillis(200))
            .until(() -> committed(group, partition) >= end);
        assertDeadLettersExactly(export.name(), produced);
        assertStillRunning();
    }

    // ---------------------------------------- an export event too large for Amplitude, on the exporter alone

    /**
     * Under the default limit (8 MiB) an export record may be larger than Amplitude's 1 MB request, and its dead
     * letter then larger than a Kafka client's default request size. The exporter alone, on topics of its own that
     * accept such records: the letter is written whole and the events behind it are exported and committed.
     */
    @Test
    @Order(6)
    void anExportEventTooLargeForAmplitudeIsDeadLetteredWholeAndTheExporterGoesOn() throws Exception {
        final int maxRecordBytes = 4 * 1024 * 1024;
        final String prefix = "poison-large-" + UUID.randomUUID().toString().substring(0, 8) + ".";
        final Topics ownTopics = Topics.create(prefix, Map.of("schema.registry.url", registry.ccompatUrl()));
        kafka.createTopics(Map.of(ownTopics.amplitudeExport.name(), 2, ownTopics.deadLetters.name(), 1),
            Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                String.valueOf(TopicBootstrapper.maxMessageBytes(maxRecordBytes))));
        final String group = prefix + "exporter";
        final ExporterSettings settings = new ExporterSettings(group, Duration.ofMillis(20), 4, 10_000, 0,
            Duration.ofSeconds(5), Duration.ofMillis(20), Duration.ofMillis(300), Duration.ofMillis(300),
            Duration.ofSeconds(2), Duration.ofMillis(200), TestDirs.create("poison-large").resolve("dry"),
            Duration.ofSeconds(5), maxRecordBytes);
        final ExportSettings toEmulator = new ExportSettings(Secret.of(FaultSecrets.API_KEY), Residency.EU,
            emulator.baseUrl(), null, null, Endpoint.HTTP_V2, EventSelection.ALL, null, 5);
        final List<Item> items = List.of(
            Item.good("large-ins-before", "ex|large-before",
                serialize(ownTopics.amplitudeExport, amplitudeEvent("ex", "large-before", "large-ins-before"))),
            Item.poison("event over Amplitude's 1 MB", "ex|large-big", serialize(ownTopics.amplitudeExport,
                AmplitudeEvent.newBuilder(amplitudeEvent("ex", "large-big", "large-ins-big"))
                    .setEventProperties(Map.of("padding", "p".repeat(1_200_000))).build()),
                ReasonCode.EVENT_TOO_LARGE),
            Item.good("large-ins-after", "ex|large-after",
                serialize(ownTopics.amplitudeExport, amplitudeEvent("ex", "large-after", "large-ins-after"))));
        final List<Produced> produced = new ArrayList<>();
        for (final Item item : items) {
            final RecordMetadata metadata = producer.send(new ProducerRecord<>(ownTopics.amplitudeExport.name(),
                PARTITION, item.key(), item.value())).get(30, TimeUnit.SECONDS);
            produced.add(new Produced(item,
                new Coordinates(metadata.topic(), metadata.partition(), metadata.offset())));
        }
        final Map<String, Object> kafkaConfig = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers());
        final AmplitudeExporter exporter = AmplitudeExporter.start(settings, Map.of("ex", toEmulator), kafkaConfig,
            ownTopics, new SimpleMeterRegistry());
        try {
            awaitAcceptedByAmplitude(Set.of("large-ins-before", "large-ins-after"));
            final TopicPartition partition = new TopicPartition(ownTopics.amplitudeExport.name(), PARTITION);
            await().atMost(OUTPUT_TIMEOUT).pollInterval(Duration.ofMillis(200))
                .until(() -> committed(group, partition) >= produced.get(2).at().offset() + 1);
            final List<DeadLetter> letters = readDeadLetters(ownTopics).stream().map(ConsumerRecord::value).toList();
            assertThat(letters).singleElement().satisfies(letter -> {
                assertThat(letter.getReasonCode()).isEqualTo(ReasonCode.EVENT_TOO_LARGE.name());
                assertThat(coordinates(letter)).isEqualTo(produced.get(1).at());
                assertThat(bytes(letter.getValue())).as("the original bytes").isEqualTo(produced.get(1).item().value());
            });
            assertThat(exporter.isRunning()).isTrue();
        } finally {
            exporter.close();
        }
    }

    // ---------------------------------------------------------------------------------------- internal topics

    /** The topics Kafka Streams creates take what cohort-sync's producer may send, not the broker's 1 MiB default. */
    @Test
    @Order(7)
    void internalTopicsAcceptRecordsAsLargeAsTheInputTopics() throws Exception {
        final List<String> internal = kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS).stream()
            .filter(name -> name.startsWith(appId + "-"))
            .filter(name -> name.endsWith("-repartition") || name.endsWith("-changelog"))
            .sorted().toList();
        assertThat(internal).contains(internal(IngestTopology.LOOKUPS_TOPIC), internal(IdentityTopology.RESOLVED_TOPIC),
            appId + "-" + MembershipTopology.MEMBERS_STORE + "-changelog");
        final List<ConfigResource> resources = internal.stream()
            .map(name -> new ConfigResource(ConfigResource.Type.TOPIC, name)).toList();
        final Map<ConfigResource, Config> configs = kafka.admin().describeConfigs(resources).all()
            .get(30, TimeUnit.SECONDS);
        resources.forEach(resource -> assertThat(configs.get(resource).get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG)
            .value()).as(resource.name()).isEqualTo(String.valueOf(TOPIC_MAX_BYTES)));
    }

    // ------------------------------------------------------------------------------------------------ poison

    /**
     * The round's poison records, each between good ones: good, poison 1, good, poison 2, ..., poison n, good. Repeated
     * {@link #ROUNDS} times.
     */
    private static List<Item> interleave(final IntFunction<List<Item>> poisonOfRound, final GoodRecords good) {
        final List<Item> items = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            int index = 0;
            items.add(good.make(round, index++));
            for (final Item poison : poisonOfRound.apply(round)) {
                items.add(poison);
                items.add(good.make(round, index++));
            }
        }
        return items;
    }

    @FunctionalInterface
    private interface GoodRecords {
        Item make(int round, int index);
    }

    private static Item randomBytes(final String key, final int round) {
        final byte[] bytes = new byte[64];
        new Random(31L * round + key.hashCode()).nextBytes(bytes);
        // A leading 0 would make the bytes a wire-format header naming a random schema id: the unknown-id case.
        bytes[0] = (byte) (bytes[0] == 0 ? 0x42 : bytes[0]);
        return Item.poison("random bytes", key, bytes, ReasonCode.DESERIALIZATION_FAILED);
    }

    /**
     * A request with no members whose (last) members field claims two billion of them: Avro would allocate an array
     * of that size before reading one and fail with OutOfMemoryError, which no exception handler sees.
     */
    private static Item membersBomb(final byte[] emptyRequest) {
        assertThat(emptyRequest[emptyRequest.length - 1]).as("an empty array ends the record").isZero();
        return claimingTwoBillion("a members count of two billion", "ct|c-req",
            Arrays.copyOf(emptyRequest, emptyRequest.length - 1));
    }

    /** A profile's wire-format header, then a first field (accountId) claiming a string of two billion bytes. */
    private static Item stringBomb(final byte[] profile) {
        return claimingTwoBillion("a string length of two billion", "ct|prof-x", Arrays.copyOf(profile, 5));
    }

    private static Item claimingTwoBillion(final String label, final String key, final byte[] prefix) {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(prefix);
        // 2,000,000,000 as Avro's zig-zag varint, then a little data.
        bytes.writeBytes(new byte[] {(byte) 0x80, (byte) 0xd0, (byte) 0xac, (byte) 0xf3, 0x0e, 'c', 't'});
        return Item.poison(label, key, bytes.toByteArray(), ReasonCode.DESERIALIZATION_FAILED);
    }

    /** The Confluent wire format around an id no registry has handed out (Apicurio counts up from 1). */
    private static Item unknownSchemaId(final String key) {
        final byte[] bytes = {0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xf0, 2, 'a', 2, 'b'};
        return Item.poison("unknown schema id", key, bytes, ReasonCode.UNKNOWN_SCHEMA_ID);
    }

    /**
     * A valid record made large with a padding string: over the record limit, yet close to what the topic accepts,
     * so that a dead letter copying it whole would no longer fit the dead-letter topic.
     */
    private static byte[] oversized(final Function<String, byte[]> withPadding) {
        final int target = TOPIC_MAX_BYTES - 256;
        final int base = withPadding.apply("").length;
        // A string's length prefix grows from 1 to 3 bytes (zig-zag varint) at this size.
        final byte[] bytes = withPadding.apply("p".repeat(target - base - 2));
        assertThat(bytes.length).isBetween(MAX_RECORD_BYTES + 1, TOPIC_MAX_BYTES - 128);
        return bytes;
    }

    // ------------------------------------------------------------------------------------------------ records

    private static CohortSyncRequest request(final String accountId, final String cohortId, final String messageId,
                                             final String... identities) {
        final List<Member> members = new ArrayList<>();
        for (final String identity : identities) {
            members.add(Member.newBuilder().setUserProperties(Map.of("CleverTap_Identity", identity)).build());
        }
        return CohortSyncRequest.newBuilder().setAccountId(accountId).setCohortId(cohortId)
            .setCohortName("Cohort " + cohortId).setMessageId(messageId).setComputedAt(T)
            .setSyncType(SyncType.REAL_TIME).setOperation(Operation.ADD).setMembers(members).build();
    }

    private static Profile profile(final String accountId, final String objectId, final String identity,
                                   final String createdBy) {
        return Profile.newBuilder().setAccountId(accountId).setObjectId(objectId).setIdentity(identity)
            .setCreatedAt(T).setUpdatedAt(T).setCreatedBy(createdBy.isEmpty() ? "platform" : createdBy).build();
    }

    private static EngagementEvent engagementEvent(final String accountId, final String objectId,
                                                   final String eventId, final String name) {
        return EngagementEvent.newBuilder().setAccountId(accountId).setObjectId(objectId)
            .setIdentity("user-" + objectId).setEventId(eventId).setEventName(name).setTimestamp(T)
            .setProperties(Map.of("Campaign", "poison-suite")).build();
    }

    private static PartnerSyncEvent partnerSync(final String accountId, final String objectId, final String eventId,
                                                final String cohortId) {
        final Map<String, String> properties = new LinkedHashMap<>();
        properties.put("Partner Segment Name", "Poison suite");
        properties.put("Action", "Added");
        if (!cohortId.isEmpty()) {
            properties.put("Partner Segment ID", cohortId);
        }
        properties.put("CT Source", "Amplitude");
        properties.put("Partner Name", "Amplitude");
        return PartnerSyncEvent.newBuilder().setAccountId(accountId).setObjectId(objectId)
            .setIdentity("user-" + objectId).setTimestamp(T).setEventId(eventId).setProperties(properties).build();
    }

    private static AmplitudeEvent amplitudeEvent(final String accountId, final String userId, final String insertId) {
        return AmplitudeEvent.newBuilder().setAccountId(accountId).setEventType("Notification Sent")
            .setUserId(userId).setDeviceId(null).setTime(T.toEpochMilli()).setInsertId(insertId)
            .setEventProperties(Map.of("Campaign", "poison-suite")).setUserProperties(Map.of()).build();
    }

    private static <V extends SpecificRecord> byte[] serialize(final Topic<String, V> topic, final V value) {
        return topic.valueSerde().serializer().serialize(topic.name(), value);
    }

    // ---------------------------------------------------------------------------------------- produce and check

    /** Produces the items in order to {@link #PARTITION}; remembers where each poison record landed. */
    private static List<Produced> produce(final String topic, final List<Item> items) throws Exception {
        final List<Produced> produced = new ArrayList<>(items.size());
        for (final Item item : items) {
            final RecordMetadata metadata = producer.send(new ProducerRecord<>(topic, PARTITION, item.key(),
                item.value())).get(30, TimeUnit.SECONDS);
            final Coordinates at = new Coordinates(metadata.topic(), metadata.partition(), metadata.offset());
            produced.add(new Produced(item, at));
            if (item.reason() != null) {
                POISONED.put(at, item);
            }
        }
        return produced;
    }

    private static Set<String> goodLabels(final List<Produced> produced) {
        return produced.stream().filter(p -> p.item().reason() == null).map(p -> p.item().label())
            .collect(Collectors.toSet());
    }

    /**
     * The dead-letter topic holds one letter for every poison record produced so far (this topic's and the earlier
     * tests'), with its reason, key, bytes and source coordinates, and nothing else.
     */
    private static void assertDeadLettersExactly(final String topic, final List<Produced> produced) {
        final List<ConsumerRecord<byte[], DeadLetter>> letters = readDeadLetters(topics);
        final Map<Coordinates, List<DeadLetter>> bySource = letters.stream().map(ConsumerRecord::value)
            .collect(Collectors.groupingBy(PoisonInputsTest::coordinates, LinkedHashMap::new, Collectors.toList()));
        final long poisonHere = produced.stream().filter(p -> p.item().reason() != null).count();
        assertThat(bySource.keySet().stream().filter(at -> topic.equals(at.topic())).count())
            .as("dead letters from %s", topic).isEqualTo(poisonHere);
        for (final Produced record : produced) {
            final List<DeadLetter> found = bySource.getOrDefault(record.at(), List.of());
            if (record.item().reason() == null) {
                assertThat(found).as("good record '%s' at %s", record.item().label(), record.at()).isEmpty();
                continue;
            }
            assertThat(found).as("dead letters of '%s' at %s", record.item().label(), record.at()).singleElement()
                .satisfies(letter -> {
                    assertThat(letter.getReasonCode()).as(record.item().label())
                        .isEqualTo(record.item().reason().name());
                    assertThat(letter.getMessage()).isNotBlank();
                    assertThat(bytes(letter.getKey())).isEqualTo(record.item().key());
                    if (record.item().reason() == ReasonCode.RECORD_TOO_LARGE) {
                        assertThat(letter.getValue()).as("an oversized record's bytes stay at the source").isNull();
                    } else {
                        assertThat(bytes(letter.getValue())).as("the original bytes").isEqualTo(record.item().value());
                    }
                });
        }
        assertThat(bySource.keySet()).as("every dead letter names a poison record, once")
            .containsExactlyInAnyOrderElementsOf(POISONED.keySet());
        assertThat(letters).as("dead letters, in all").hasSize(POISONED.size());
        LoggerFactory.getLogger(PoisonInputsTest.class).info("{}: {} poison records among {} injected, {} dead letters "
            + "from it; {} poison records and {} dead letters so far, in all", topic, poisonHere, produced.size(),
            bySource.keySet().stream().filter(at -> topic.equals(at.topic())).count(), POISONED.size(), letters.size());
    }

    private static List<ConsumerRecord<byte[], DeadLetter>> readDeadLetters(final Topics of) {
        final Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<byte[], DeadLetter> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
            of.deadLetters.valueSerde().deserializer())) {
            return readToEnd(consumer, of.deadLetters.name());
        }
    }

    /** Partner Sync events of one account and cohort; records that do not decode (this suite's poison) are skipped. */
    private static List<PartnerSyncEvent> partnerSyncEvents(final String accountId, final String cohortId) {
        final Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        final List<PartnerSyncEvent> events = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
            for (final ConsumerRecord<byte[], byte[]> record : readToEnd(consumer, topics.partnerSync.name())) {
                if (record.value() == null || record.value().length > MAX_RECORD_BYTES) {
                    continue;
                }
                final PartnerSyncEvent event;
                try {
                    event = topics.partnerSync.valueSerde().deserializer().deserialize(record.topic(), record.value());
                } catch (final RuntimeException poison) {
                    continue;
                }
                if (accountId.equals(event.getAccountId())
                    && cohortId.equals(event.getProperties().get("Partner Segment ID"))) {
                    events.add(event);
                }
            }
        }
        return events;
    }

    private static <V> List<ConsumerRecord<byte[], V>> readToEnd(final KafkaConsumer<byte[], V> consumer,
                                                                 final String topic) {
        final List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
            .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        // read_committed: the end is the last stable offset, past every committed transaction.
        final Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        final List<ConsumerRecord<byte[], V>> records = new ArrayList<>();
        final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
            assertThat(System.nanoTime()).as("reading %s to its end", topic).isLessThan(deadline);
            consumer.poll(Duration.ofMillis(100)).forEach(records::add);
        }
        return records;
    }

    private static Set<String> identities(final List<PartnerSyncEvent> events) {
        return events.stream().map(PartnerSyncEvent::getIdentity).collect(Collectors.toSet());
    }

    private static void awaitAcceptedByAmplitude(final Set<String> insertIds) {
        await().atMost(OUTPUT_TIMEOUT).pollInterval(Duration.ofMillis(250)).until(() -> emulator.accepted().stream()
            .map(AmplitudeEmulator.Accepted::insertId).collect(Collectors.toSet()).containsAll(insertIds));
        final List<String> accepted = emulator.accepted().stream().map(AmplitudeEmulator.Accepted::insertId)
            .filter(insertIds::contains).toList();
        assertThat(accepted).as("each good event exported once").doesNotHaveDuplicates();
    }

    private static void assertNotSentToAmplitude(final String... insertIdPrefixes) {
        assertThat(emulator.accepted()).extracting(AmplitudeEmulator.Accepted::insertId)
            .noneMatch(insertId -> List.of(insertIdPrefixes).stream().anyMatch(insertId::startsWith));
    }

    /**
     * The import committed past every request and every internal record the requests made: a poison request that
     * had slipped through would have its Partner Sync events written by now.
     */
    private static void awaitImportCaughtUp() throws InterruptedException {
        awaitStreamsCaughtUp(topics.requests.name(), internal(IngestTopology.LOOKUPS_TOPIC),
            internal(IngestTopology.BATCHES_TOPIC), internal(IdentityTopology.RESOLVED_TOPIC));
    }

    private static String internal(final String repartitionTopic) {
        return appId + "-" + repartitionTopic + "-repartition";
    }

    /** The Streams application committed past every record of the topics: all their outputs are written. */
    private static void awaitStreamsCaughtUp(final String... topicNames) throws InterruptedException {
        assertThat(ConsumerLag.awaitCaughtUp(kafka.admin(), appId, List.of(topicNames), OUTPUT_TIMEOUT))
            .as("cohort-sync caught up on %s", List.of(topicNames)).isTrue();
    }

    private static long committed(final String group, final TopicPartition partition) throws Exception {
        final var offset = kafka.admin().listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
            .get(10, TimeUnit.SECONDS).get(partition);
        return offset == null ? -1 : offset.offset();
    }

    private static void assertStillRunning() {
        assertThat(service.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
        assertThat(service.exporter().isRunning()).as("the Amplitude exporter").isTrue();
        assertThat(serviceLog.list).as("stream threads that failed and were replaced")
            .noneMatch(event -> event.getLevel() == Level.ERROR);
    }

    private static Coordinates coordinates(final DeadLetter letter) {
        return new Coordinates(letter.getSourceTopic(), letter.getSourcePartition() == null ? -1
            : letter.getSourcePartition(), letter.getSourceOffset() == null ? -1 : letter.getSourceOffset());
    }

    private static byte[] bytes(final ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        final ByteBuffer copy = buffer.duplicate();
        final byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }

    private static byte[] utf8(final String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
