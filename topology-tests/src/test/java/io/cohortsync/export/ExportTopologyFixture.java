package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.EngagementEvent;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.Profile;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.StreamsSettings;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.testing.TestDirs;
import io.cohortsync.topology.CohortSyncTopology;
import io.cohortsync.topology.Topics;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

/** The service's whole topology in a TopologyTestDriver, with accounts given as YAML, seen from the export's side. */
final class ExportTopologyFixture implements AutoCloseable {

    final Topics topics;
    final CohortSyncConfig config;
    private final TopologyTestDriver driver;
    private final String registryScope = "export-topology-" + UUID.randomUUID();
    private final TestInputTopic<String, EngagementEvent> engagement;
    private final TestInputTopic<String, PartnerSyncEvent> partnerSync;
    private final TestInputTopic<String, Profile> profiles;
    private final TestInputTopic<String, CohortSyncRequest> requests;
    private final TestInputTopic<byte[], byte[]> rawEngagement;
    private final TestInputTopic<byte[], byte[]> rawPartnerSync;
    private final TestOutputTopic<String, AmplitudeEvent> exported;
    private final TestOutputTopic<byte[], DeadLetter> deadLetters;

    ExportTopologyFixture(final String accountsYaml) throws Exception {
        final Path stateDir = TestDirs.create("cohort-sync-export-ttd");
        config = CohortSyncConfig.of(Map.of(
            "kafka.bootstrap-servers", "unused:9092",
            "schema-registry.url", "mock://" + registryScope,
            "state-dir", stateDir.toString()), accountsYaml);
        topics = Topics.create(config.topicPrefix(), config.serdeConfig());
        final Properties props = StreamsSettings.of(config, "unused:9092");
        driver = new TopologyTestDriver(CohortSyncTopology.build(config, topics, props), props);
        engagement = driver.createInputTopic(topics.engagementEvents.name(), new StringSerializer(),
            topics.engagementEvents.valueSerde().serializer());
        partnerSync = driver.createInputTopic(topics.partnerSync.name(), new StringSerializer(),
            topics.partnerSync.valueSerde().serializer());
        profiles = driver.createInputTopic(topics.profiles.name(), new StringSerializer(),
            topics.profiles.valueSerde().serializer());
        requests = driver.createInputTopic(topics.requests.name(), new StringSerializer(),
            topics.requests.valueSerde().serializer());
        rawEngagement = driver.createInputTopic(topics.engagementEvents.name(), new ByteArraySerializer(),
            new ByteArraySerializer());
        rawPartnerSync = driver.createInputTopic(topics.partnerSync.name(), new ByteArraySerializer(),
            new ByteArraySerializer());
        exported = driver.createOutputTopic(topics.amplitudeExport.name(), new StringDeserializer(),
            topics.amplitudeExport.valueSerde().deserializer());
        deadLetters = driver.createOutputTopic(topics.deadLetters.name(), Serdes.ByteArray().deserializer(),
            topics.deadLetters.valueSerde().deserializer());
    }

    void engagement(final EngagementEvent event) {
        engagement.pipeInput(event.getAccountId() + "|" + event.getObjectId(), event);
    }

    void engagementWithKey(final String key, final EngagementEvent event) {
        engagement.pipeInput(key, event);
    }

    void rawEngagement(final String key, final byte[] value) {
        rawEngagement.pipeInput(key.getBytes(StandardCharsets.UTF_8), value);
    }

    void partnerSync(final PartnerSyncEvent event) {
        partnerSync.pipeInput(event.getAccountId() + "|" + event.getObjectId(), event);
    }

    void partnerSyncWithKey(final String key, final PartnerSyncEvent event) {
        partnerSync.pipeInput(key, event);
    }

    void rawPartnerSync(final String key, final byte[] value) {
        rawPartnerSync.pipeInput(key.getBytes(StandardCharsets.UTF_8), value);
    }

    void profile(final String accountId, final String objectId, final String identity, final String email,
                 final String... deviceIds) {
        profiles.pipeInput(accountId + "|" + objectId, Profile.newBuilder()
            .setAccountId(accountId).setObjectId(objectId).setIdentity(identity).setEmail(email)
            .setDeviceIds(Arrays.asList(deviceIds)).setCreatedAt(Instant.EPOCH).setUpdatedAt(Instant.EPOCH).build());
    }

    void request(final CohortSyncRequest request) {
        requests.pipeInput(request.getAccountId() + "|" + request.getCohortId(), request);
    }

    List<KeyValue<String, AmplitudeEvent>> exported() {
        return exported.readKeyValuesToList();
    }

    List<DeadLetter> deadLetters() {
        return deadLetters.readValuesToList();
    }

    static EngagementEvent event(final String accountId, final String objectId, final String identity,
                                 final String deviceId, final String name, final long timestamp,
                                 final Map<String, String> properties) {
        return EngagementEvent.newBuilder()
            .setAccountId(accountId).setObjectId(objectId).setIdentity(identity).setDeviceId(deviceId)
            .setEventName(name).setTimestamp(Instant.ofEpochMilli(timestamp)).setProperties(properties).build();
    }

    static PartnerSyncEvent partnerSyncEvent(final String accountId, final String objectId, final String identity,
                                             final String eventId) {
        return PartnerSyncEvent.newBuilder()
            .setAccountId(accountId).setObjectId(objectId).setIdentity(identity).setEventId(eventId)
            .setTimestamp(Instant.ofEpochMilli(1_700_000_000_000L))
            .setProperties(Map.of("Partner Segment Name", "Cart Drop off", "Action", "Added",
                "Partner Segment ID", "c1", "CT Source", "Amplitude", "Partner Name", "Amplitude"))
            .build();
    }

    @Override
    public void close() {
        driver.close();
        MockSchemaRegistry.drop(registryScope);
    }
}
