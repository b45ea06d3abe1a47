package io.cohortsync.runtime;

import io.cohortsync.testing.KafkaTestCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The start-up wait for the profile table ({@link ProfileTableCatchUp}) and its look into partitions whose committed
 * offset stays short of the end ({@link ReadableRecordProbe}), against partitions laid out by hand on a real broker:
 * aborted transactions, transactions still open, committed offsets that stop at a commit marker.
 */
class ProfileTableCatchUpOnBrokerTest {

    private static final int ABORTED_RECORDS = 1_600;
    private static final int RECORD_BYTES = 16 * 1024;

    private static KafkaTestCluster kafka;

    private String groupId;
    private String profilesTopic;
    private String indexUpdatesTopic;

    @BeforeAll
    static void startKafka() {
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @BeforeEach
    void names() {
        groupId = "catch-up-" + UUID.randomUUID().toString().substring(0, 8);
        profilesTopic = groupId + ".profiles";
        indexUpdatesTopic = groupId + "-identity-index-updates-repartition";
        kafka.createTopics(Map.of(profilesTopic, 1, indexUpdatesTopic, 1));
    }

    /**
     * About 25 MB of aborted records (a platform's bulk load that failed): more than one look gets through, so each
     * look must go on where the last one stopped, or the range is never crossed and syncs are held for good.
     */
    @Test
    void aLargeAbortedRestIsCrossedOverSeveralLooks() throws Exception {
        final TopicPartition partition = new TopicPartition(profilesTopic, 0);
        try (KafkaProducer<byte[], byte[]> producer = transactionalProducer("aborting")) {
            producer.beginTransaction();
            for (int i = 0; i < ABORTED_RECORDS; i++) {
                producer.send(new ProducerRecord<>(profilesTopic, 0, null, new byte[RECORD_BYTES]));
            }
            producer.abortTransaction();
        }
        final long end = kafka.admin().listOffsets(Map.of(partition,
                OffsetSpec.latest())).all().get(30, TimeUnit.SECONDS)
            .get(partition).offset();

        // Each look polls once for 1 ms: a fetch or two, far short of the whole rest.
        try (ReadableRecordProbe probe = new ReadableRecordProbe(clientConfig(), "probe-test", Duration.ofMillis(1))) {
            assertThat(probe.anyBetween(partition, 0, end, inMillis(1)))
                .as("the first look cannot tell yet").isTrue();
            await().atMost(Duration.ofMinutes(1)).pollInSameThread().pollInterval(Duration.ofMillis(1))
                .until(() -> !probe.anyBetween(partition, 0, end, inMillis(1)));
        }

        try (KafkaProducer<byte[], byte[]> producer = transactionalProducer("committing")) {
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(profilesTopic, 0, null, new byte[1]));
            producer.commitTransaction();
        }
        try (ReadableRecordProbe probe = new ReadableRecordProbe(clientConfig(), "probe-test")) {
            assertThat(probe.anyBetween(partition, 0, end + 2, inMillis(30_000)))
                .as("the committed record after the aborted ones").isTrue();
        }
    }

    /**
     * Under exactly_once_v2 the group's offsets on the profiles topic can be visible before the marker of the same
     * transaction is written to the index-update partition: its index updates are then past that partition's last
     * stable offset. The wait must cover them, or syncs resolved next would miss those profiles and create second
     * ones. Here the transaction is simply still open.
     */
    @Test
    void indexUpdatesOfATransactionWithoutItsMarkerYetKeepTheWait() throws Exception {
        final TopicPartition updates = new TopicPartition(indexUpdatesTopic, 0);
        try (KafkaProducer<byte[], byte[]> producer = transactionalProducer("profile-task");
             ProfileTableCatchUp catchUp = catchUp()) {
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(indexUpdatesTopic, 0, null, new byte[10])).get();
            producer.send(new ProducerRecord<>(indexUpdatesTopic, 0, null, new byte[10])).get();

            catchUp.start(clientConfig());
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> !catchUp.getAsBoolean());

            producer.commitTransaction();
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).until(() -> !catchUp.getAsBoolean());

            commitGroupOffset(updates, 2);
            await().atMost(Duration.ofSeconds(30)).until(catchUp::getAsBoolean);
        }
    }

    /**
     * Kafka Streams may commit an offset that stops at the marker of the last transaction it read (the marker came in
     * a later fetch and nothing was processed after it). A restart that finds the table caught up this way must hold
     * nothing: the first check, made before Kafka Streams starts, already says so.
     */
    @Test
    void aRestartWhoseCommittedOffsetStopsAtACommitMarkerHoldsNothing() throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = transactionalProducer("platform")) {
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(profilesTopic, 0, null, new byte[10]));
            producer.send(new ProducerRecord<>(profilesTopic, 0, null, new byte[10]));
            producer.commitTransaction();
        }
        commitGroupOffset(new TopicPartition(profilesTopic, 0), 2);

        try (ProfileTableCatchUp catchUp = catchUp()) {
            catchUp.start(clientConfig());
            assertThat(catchUp.getAsBoolean()).as("caught up at the first check").isTrue();
        }
    }

    /**
     * The first check runs before Kafka Streams starts. Eight partitions whose looks cannot tell (open transactions
     * of a crashed instance, fenced only once Kafka Streams starts) share one budget: the start is not held eight
     * times over.
     */
    @Test
    void theFirstCheckLooksIntoEveryPartitionWithinOneBudget() throws Exception {
        final String wideUpdates = groupId + "-wide-identity-index-updates-repartition";
        kafka.createTopics(Map.of(wideUpdates, 8));
        try (KafkaProducer<byte[], byte[]> producer = transactionalProducer("wide")) {
            producer.beginTransaction();
            for (int partition = 0; partition < 8; partition++) {
                producer.send(new ProducerRecord<>(wideUpdates, partition, null, new byte[10]));
            }
            producer.commitTransaction();
        }
        final List<Long> granted = new CopyOnWriteArrayList<>();
        final ProfileTableCatchUp.RestProbe undecided = new ProfileTableCatchUp.RestProbe() {
            @Override
            public boolean anyBetween(final TopicPartition partition, final long from, final long end,
                                      final long deadlineNanos) {
                // Like a look stuck at an open transaction: it uses the time it is given, and cannot tell.
                final long now = System.nanoTime();
                granted.add(Math.max(0, deadlineNanos - now));
                LockSupport.parkNanos(deadlineNanos - now);
                return true;
            }

            @Override
            public void close() {
            }
        };

        try (ProfileTableCatchUp catchUp = new ProfileTableCatchUp(groupId, profilesTopic, wideUpdates,
            new SimpleMeterRegistry())) {
            catchUp.start(Admin.create(clientConfig()), undecided);
            final List<Long> firstCheck = List.copyOf(granted);

            assertThat(catchUp.getAsBoolean()).isFalse();
            assertThat(firstCheck).as("every partition was looked into").hasSize(8);
            assertThat(firstCheck.stream().mapToLong(Long::longValue).sum()).as("nanoseconds granted in all")
                .isLessThanOrEqualTo(ProfileTableCatchUp.FIRST_PROBE_BUDGET.toNanos());
        }
    }

    private static long inMillis(final long millis) {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    }

    private ProfileTableCatchUp catchUp() {
        return new ProfileTableCatchUp(groupId, profilesTopic, indexUpdatesTopic, new SimpleMeterRegistry());
    }

    private void commitGroupOffset(final TopicPartition partition, final long offset) throws Exception {
        kafka.admin().alterConsumerGroupOffsets(groupId, Map.of(partition, new OffsetAndMetadata(offset)))
            .all().get(30, TimeUnit.SECONDS);
    }

    private Map<String, Object> clientConfig() {
        return Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    }

    private KafkaProducer<byte[], byte[]> transactionalProducer(final String name) {
        final KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ProducerConfig.TRANSACTIONAL_ID_CONFIG, groupId + "-" + name,
            ProducerConfig.LINGER_MS_CONFIG, 20,
            ProducerConfig.BATCH_SIZE_CONFIG, 1024 * 1024), new ByteArraySerializer(), new ByteArraySerializer());
        producer.initTransactions();
        return producer;
    }
}
