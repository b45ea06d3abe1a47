package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.serde.MockSchemaRegistry;
import io.cohortsync.topology.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetCommitCallback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The halt (crash simulation) commits nothing once it has landed, wherever in the loop it lands. */
class ExporterHaltTest {

    private static final TopicPartition PARTITION = new TopicPartition("amplitude-export", 0);

    @TempDir
    Path dir;
    private final String registryScope = "exporter-halt-test-" + UUID.randomUUID();
    private final Topics topics = Topics.create("", Map.of("schema.registry.url", "mock://" + registryScope,
        "auto.register.schemas", true));
    private final HaltingConsumer consumer = new HaltingConsumer();
    private AmplitudeExporter exporter;

    @AfterEach
    void stop() {
        if (exporter != null) {
            exporter.close();
        }
        MockSchemaRegistry.drop(registryScope);
    }

    @Test
    void aHaltLandingAfterTheLoopsLastCheckCommitsNothing() {
        exporter = AmplitudeExporter.start(settings(), Map.of("acct", new ExportSettings(null, null, null, null, null,
            Endpoint.HTTP_V2, null, null, 5)), Map.of(), topics, new SimpleMeterRegistry(), clients());
        consumer.haltOnResume(exporter);
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(PARTITION));
            consumer.addRecord(record(event()));
        });

        await().atMost(Duration.ofSeconds(30)).until(() -> !exporter.isRunning());

        assertThat(dir.resolve("dry.ndjson")).as("the event was accepted").content().contains("user-000001");
        assertThat(consumer.halted()).as("the halt landed").isTrue();
        assertThat(consumer.commitsAfterHalt()).isEmpty();
    }

    /**
     * One event buffered fills {@code max-buffered-events}, so the partition pauses until Amplitude accepts it; the
     * loop resumes it after its last halted check and right before its commit: where the fake lands the halt.
     * Commits are due on every pass.
     */
    private ExporterSettings settings() {
        return new ExporterSettings("halt-test", Duration.ZERO, 4, 1, 0, Duration.ofSeconds(5), Duration.ofMillis(20),
            Duration.ofMillis(300), Duration.ofMillis(300), Duration.ofSeconds(2), Duration.ZERO,
            dir.resolve("dry.ndjson"), Duration.ofSeconds(5), 1_000_000);
    }

    private AmplitudeExporter.Clients clients() {
        return new AmplitudeExporter.Clients() {
            @Override
            public Consumer<byte[], byte[]> consumer(final Map<String, Object> config) {
                return consumer;
            }

            @Override
            public Producer<byte[], DeadLetter> producer(final Map<String, Object> config,
                                                         final Serializer<DeadLetter> values) {
                return new MockProducer<>(true, null, new ByteArraySerializer(), values);
            }
        };
    }

    private static AmplitudeEvent event() {
        return AmplitudeEvent.newBuilder()
            .setAccountId("acct")
            .setEventType("Notification Sent")
            .setUserId("user-000001")
            .setDeviceId("device-000001")
            .setTime(1_700_000_000_000L)
            .setInsertId(UUID.randomUUID().toString())
            .setEventProperties(Map.of())
            .setUserProperties(Map.of())
            .build();
    }

    private ConsumerRecord<byte[], byte[]> record(final AmplitudeEvent event) {
        return new ConsumerRecord<>(PARTITION.topic(), PARTITION.partition(), 0L,
            ExportMapper.key(event).getBytes(StandardCharsets.UTF_8),
            topics.amplitudeExport.valueSerde().serializer().serialize(PARTITION.topic(), event));
    }

    /** Halts the exporter from inside its loop when it resumes a partition; records every commit. */
    private static final class HaltingConsumer extends MockConsumer<byte[], byte[]> {

        private final List<Map<TopicPartition, OffsetAndMetadata>> commits = new CopyOnWriteArrayList<>();
        private volatile AmplitudeExporter toHalt;
        private volatile int commitsBeforeHalt = -1;

        HaltingConsumer() {
            super("earliest");
            updateBeginningOffsets(Map.of(PARTITION, 0L));
        }

        void haltOnResume(final AmplitudeExporter exporter) {
            toHalt = exporter;
        }

        boolean halted() {
            return commitsBeforeHalt >= 0;
        }

        List<Map<TopicPartition, OffsetAndMetadata>> commitsAfterHalt() {
            return commits.subList(Math.max(0, commitsBeforeHalt), commits.size());
        }

        @Override
        public synchronized void resume(final Collection<TopicPartition> partitions) {
            super.resume(partitions);
            if (toHalt != null && !halted()) {
                commitsBeforeHalt = commits.size();
                toHalt.requestHalt();
            }
        }

        // commitSync(Map) commits through this too.
        @Override
        public synchronized void commitAsync(final Map<TopicPartition, OffsetAndMetadata> offsets,
                                             final OffsetCommitCallback callback) {
            commits.add(Map.copyOf(offsets));
            super.commitAsync(offsets, callback);
        }
    }
}
