package io.cohortsync.topology;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.avro.SyncType;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.internal.BatchOpened;
import io.cohortsync.internal.MembershipState;
import io.cohortsync.internal.ResolvedChunk;
import io.cohortsync.ingest.IngestTopology;
import io.cohortsync.internal.IndexEntry;
import io.cohortsync.internal.IndexOwners;
import io.cohortsync.internal.SegmentStats;
import io.cohortsync.membership.MembershipTopology;
import io.cohortsync.metrics.CohortSyncMetrics;
import io.cohortsync.runtime.StreamsSettings;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.testing.TestDirs;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs the real topology (the same builder the service uses) in a TopologyTestDriver with an in-memory registry. */
final class TopologyFixture implements AutoCloseable {

    static final String ACCOUNTS = """
        accounts:
          ct:
            import:
              policy: CREATE_UNMATCHED
          ct2:
            import:
              policy: CREATE_UNMATCHED
          bz:
            import:
              policy: MATCH_ONLY
              identifiers: [external_id, "alias:braze_alias", device_id]
        """;

    final Topics topics;
    final TopologyTestDriver driver;
    private final Path stateDir;
    private final String registryScope = "topology-test-" + UUID.randomUUID();
    private final TestInputTopic<String, CohortSyncRequest> requests;
    private final TestInputTopic<byte[], byte[]> rawRequests;
    private final TestInputTopic<String, Profile> profilesIn;
    private final TestOutputTopic<String, PartnerSyncEvent> partnerSync;
    private final TestOutputTopic<String, SyncReport> reports;
    private final TestOutputTopic<String, Profile> profilesOut;
    private final TestOutputTopic<byte[], DeadLetter> deadLetters;
    private final TestOutputTopic<String, byte[]> indexUpdates;
    private final TestOutputTopic<String, byte[]> lookupChunks;
    private final TestInputTopic<String, ResolvedChunk> resolvedChunks;
    private final TestInputTopic<String, BatchOpened> batchHeaders;

    TopologyFixture(final Map<String, String> overrides) throws Exception {
        this(overrides, ACCOUNTS);
    }

    /** With {@code accounts} (the config file's accounts section) instead of {@link #ACCOUNTS}. */
    TopologyFixture(final Map<String, String> overrides, final String accounts) throws Exception {
        this(overrides, accounts, () -> true);
    }

    /** With identity resolution holding lookups until {@code profilesLoaded} (the service's start-up gate). */
    TopologyFixture(final Map<String, String> overrides, final String accounts, final BooleanSupplier profilesLoaded)
        throws Exception {
        stateDir = TestDirs.create("cohort-sync-ttd");
        final Map<String, String> settings = new HashMap<>(Map.of(
            "kafka.bootstrap-servers", "unused:9092",
            "schema-registry.url", "mock://" + registryScope,
            "state-dir", stateDir.toString()));
        settings.putAll(overrides);
        final CohortSyncConfig config = CohortSyncConfig.of(settings, accounts);
        topics = Topics.create(config.topicPrefix(), config.serdeConfig());
        final Properties props = StreamsSettings.of(config, "unused:9092");
        driver = new TopologyTestDriver(CohortSyncTopology.build(config, topics, props, CohortSyncMetrics.noop(),
            profilesLoaded), props);
        requests = driver.createInputTopic(topics.requests.name(), new StringSerializer(),
            topics.requests.valueSerde().serializer());
        rawRequests = driver.createInputTopic(topics.requests.name(), new ByteArraySerializer(),
            new ByteArraySerializer());
        profilesIn = driver.createInputTopic(topics.profiles.name(), new StringSerializer(),
            topics.profiles.valueSerde().serializer());
        partnerSync = driver.createOutputTopic(topics.partnerSync.name(), new StringDeserializer(),
            topics.partnerSync.valueSerde().deserializer());
        reports = driver.createOutputTopic(topics.syncReports.name(), new StringDeserializer(),
            topics.syncReports.valueSerde().deserializer());
        profilesOut = driver.createOutputTopic(topics.profiles.name(), new StringDeserializer(),
            topics.profiles.valueSerde().deserializer());
        indexUpdates = driver.createOutputTopic(config.applicationId() + "-" + IdentityTopology.INDEX_UPDATES_TOPIC
            + "-repartition", new StringDeserializer(), Serdes.ByteArray().deserializer());
        resolvedChunks = driver.createInputTopic(config.applicationId() + "-" + IdentityTopology.RESOLVED_TOPIC
            + "-repartition", new StringSerializer(), InternalAvroSerde.of(ResolvedChunk.class).serializer());
        batchHeaders = driver.createInputTopic(config.applicationId() + "-" + IngestTopology.BATCHES_TOPIC
            + "-repartition", new StringSerializer(), InternalAvroSerde.of(BatchOpened.class).serializer());
        lookupChunks = driver.createOutputTopic(config.applicationId() + "-" + IngestTopology.LOOKUPS_TOPIC
            + "-repartition", new StringDeserializer(), Serdes.ByteArray().deserializer());
        deadLetters = driver.createOutputTopic(topics.deadLetters.name(), Serdes.ByteArray().deserializer(),
            topics.deadLetters.valueSerde().deserializer());
    }

    TopologyFixture() throws Exception {
        this(Map.of());
    }

    void profile(final String accountId, final String objectId, final String identity, final String... deviceIds) {
        profile(Profile.newBuilder()
            .setAccountId(accountId)
            .setObjectId(objectId)
            .setIdentity(identity)
            .setDeviceIds(Arrays.asList(deviceIds))
            .setCreatedAt(Instant.EPOCH)
            .setUpdatedAt(Instant.EPOCH)
            .build());
    }

    void profile(final Profile profile) {
        profilesIn.pipeInput(profile.getAccountId() + "|" + profile.getObjectId(), profile);
    }

    /** A profile written with these headers, as a copy of another deployment's topic would carry them. */
    void profile(final Profile profile, final Headers headers) {
        profilesIn.pipeInput(new TestRecord<>(profile.getAccountId() + "|" + profile.getObjectId(), profile, headers));
    }

    /** The platform deleted the profile: a tombstone on the profiles topic. */
    void deleteProfile(final String accountId, final String objectId) {
        profilesIn.pipeInput(accountId + "|" + objectId, null);
    }

    /** The keys of the identity index that match a profile (lookup key to the objectId it matches). */
    Map<String, String> identityIndex() {
        final Map<String, String> index = new TreeMap<>();
        final KeyValueStore<String, IndexOwners> store = driver.getKeyValueStore(IdentityTopology.INDEX_STORE);
        try (KeyValueIterator<String, IndexOwners> all = store.all()) {
            all.forEachRemaining(entry -> {
                final List<IndexEntry> owners = entry.value.getOwners();
                if (!owners.isEmpty()) {
                    index.put(entry.key, owners.get(owners.size() - 1).getObjectId());
                }
            });
        }
        return index;
    }

    /** The lookup keys of every update the profile table sent to the identity index so far. */
    List<String> indexUpdatesSent() {
        return indexUpdates.readRecordsToList().stream().map(TestRecord::key).toList();
    }

    /**
     * Hands the membership stage a resolved chunk directly. Through the topology the batch header always comes
     * first; on a broker the header and the chunks take different topics, so either may.
     */
    void resolvedChunk(final ResolvedChunk chunk) {
        resolvedChunks.pipeInput(chunk.getBatch().getAccountId() + "|" + chunk.getBatch().getCohortId(), chunk);
    }

    /** Hands the membership stage a batch header directly (see {@link #resolvedChunk}). */
    void batchHeader(final BatchOpened opened) {
        batchHeaders.pipeInput(opened.getBatch().getAccountId() + "|" + opened.getBatch().getCohortId(), opened);
    }

    /** The encoded chunks ingest sent to identity resolution so far. */
    List<byte[]> lookupChunksSent() {
        return lookupChunks.readValuesToList();
    }

    void request(final CohortSyncRequest request) {
        requests.pipeInput(request.getAccountId() + "|" + request.getCohortId(), request);
    }

    void rawRequest(final String key, final byte[] value) {
        rawRequests.pipeInput(key == null ? null : key.getBytes(StandardCharsets.UTF_8), value);
    }

    static CohortSyncRequest batch(final String accountId, final String cohortId, final String cohortName,
                                   final String messageId, final long computedAt, final Operation operation,
                                   final Member... members) {
        return CohortSyncRequest.newBuilder()
            .setAccountId(accountId)
            .setCohortId(cohortId)
            .setCohortName(cohortName)
            .setMessageId(messageId)
            .setComputedAt(Instant.ofEpochMilli(computedAt))
            .setSyncType(SyncType.HOURLY)
            .setOperation(operation)
            .setMembers(Arrays.asList(members))
            .build();
    }

    /** The one value of {@code values}, failing the test when there are none or several. */
    static <T> T single(final List<T> values) {
        assertThat(values).hasSize(1);
        return values.get(0);
    }

    static Member withIdentity(final String identity) {
        return Member.newBuilder().setUserProperties(Map.of("CleverTap_Identity", identity)).build();
    }

    static Member withIdentityAndDevice(final String identity, final String deviceId) {
        return Member.newBuilder().setDeviceId(deviceId)
            .setUserProperties(Map.of("CleverTap_Identity", identity)).build();
    }

    static Member withDevice(final String deviceId) {
        return Member.newBuilder().setDeviceId(deviceId).build();
    }

    static Member withUserId(final String userId) {
        return Member.newBuilder().setUserId(userId).build();
    }

    static Member member(final String userId, final String deviceId, final Map<String, String> properties) {
        return Member.newBuilder().setUserId(userId).setDeviceId(deviceId).setUserProperties(properties).build();
    }

    List<KeyValue<String, PartnerSyncEvent>> partnerSyncEvents() {
        return partnerSync.readKeyValuesToList();
    }

    List<SyncReport> reports() {
        return reports.readValuesToList();
    }

    List<Profile> createdProfiles() {
        return profilesOut.readValuesToList();
    }

    List<DeadLetter> deadLetters() {
        return deadLetters.readValuesToList();
    }

    SegmentStats segment(final String accountId, final String cohortId) {
        final KeyValueStore<String, SegmentStats> store = driver.getKeyValueStore(MembershipTopology.SEGMENTS_STORE);
        return store.get(accountId + "|" + cohortId);
    }

    /**
     * Every entry of every store, by store name: what a restart on the same state directory (or a restore from the
     * changelogs) would find. A TopologyTestDriver wipes its state directory when it closes.
     */
    Map<String, List<KeyValue<Object, Object>>> stateStores() {
        final Map<String, List<KeyValue<Object, Object>>> stores = new TreeMap<>();
        driver.getAllStateStores().keySet().forEach(name -> {
            final KeyValueStore<Object, Object> store = driver.getKeyValueStore(name);
            final List<KeyValue<Object, Object>> entries = new ArrayList<>();
            try (KeyValueIterator<Object, Object> all = store.all()) {
                all.forEachRemaining(entries::add);
            }
            stores.put(name, entries);
        });
        return stores;
    }

    /** Puts {@link #stateStores()} of another fixture into this one's stores, which must be empty. */
    void restoreStateStores(final Map<String, List<KeyValue<Object, Object>>> stores) {
        stores.forEach((name, entries) -> {
            final KeyValueStore<Object, Object> store = driver.getKeyValueStore(name);
            entries.forEach(entry -> store.put(entry.key, entry.value));
        });
    }

    @Override
    public void close() {
        driver.close();
        MockSchemaRegistry.drop(registryScope);
        TestDirs.deleteRecursively(stateDir);
    }

    /** The membership store: members and the markers of non-members, by {@code <account>|<cohort>|<objectId>}. */
    Map<String, MembershipState> membershipStore() {
        final KeyValueStore<String, MembershipState> store = driver.getKeyValueStore(MembershipTopology.MEMBERS_STORE);
        final Map<String, MembershipState> entries = new HashMap<>();
        try (KeyValueIterator<String, MembershipState> all = store.all()) {
            all.forEachRemaining(entry -> entries.put(entry.key, entry.value));
        }
        return entries;
    }
}
