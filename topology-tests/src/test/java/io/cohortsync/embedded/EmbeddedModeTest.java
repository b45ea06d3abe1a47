package io.cohortsync.embedded;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.cli.CohortSyncCli;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.sample.SampleDataset;
import io.cohortsync.serde.ConfluentAvroSerde;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's newcomer flow: `run` on the embedded default, `produce-sample`, Partner Sync events; then a restart. */
class EmbeddedModeTest {

    private static final int USERS = 400;

    @TempDir
    Path dir;

    @Test
    void theSampleYieldsItsPartnerSyncEventsAndARestartReusesTheBrokerAndState() throws Exception {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of(
            "embedded.data-dir", dir.resolve("kafka").toString(),
            "state-dir", dir.resolve("state").toString()), defaultAccounts());
        final SampleDataset sample = SampleDataset.generate("demo", USERS, 3, 1000, 42L);
        final int expectedEvents = expectedEvents(sample);

        final String firstBootstrap;
        try (CohortSyncService service = CohortSyncService.start(config)) {
            assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
            firstBootstrap = service.bootstrapServers();
            assertThat(produceSample()).isZero();
            final List<ConsumerRecord<String, PartnerSyncEvent>> events = readAtLeast(service, "cohort-sync.partner-sync",
                PartnerSyncEvent.class, expectedEvents);
            assertThat(events).hasSize(expectedEvents);
            assertThat(events.stream().map(e -> e.value().getEventId()).collect(Collectors.toSet()))
                .hasSize(expectedEvents);
            assertThat(events).anySatisfy(e -> assertThat(e.key()).isEqualTo("demo|543C-3455-4555-3SRD"));
            assertThat(events).anySatisfy(e -> assertThat(e.key()).isEqualTo("demo|ct-seed-1"));
        }

        try (CohortSyncService service = CohortSyncService.start(config)) {
            assertThat(service.awaitRunning(Duration.ofMinutes(2))).isTrue();
            assertThat(service.bootstrapServers()).isEqualTo(firstBootstrap);
            assertThat(produceSample()).isZero();
            final List<ConsumerRecord<String, SyncReport>> reports = readAtLeast(service, "cohort-sync.sync-reports",
                SyncReport.class, 2 * sample.requests().size());
            // Reports come partition by partition, not in time order: count them per batch instead.
            final Set<String> batches = sample.requests().stream().map(CohortSyncRequest::getMessageId)
                .collect(Collectors.toSet());
            assertThat(reports).hasSize(2 * sample.requests().size());
            assertThat(reports.stream().filter(r -> !r.value().getDuplicate()).map(r -> r.value().getMessageId()))
                .as("each batch applied once, in the first run").containsExactlyInAnyOrderElementsOf(batches);
            assertThat(reports.stream().filter(r -> r.value().getDuplicate()))
                .as("the sample's own retry, then every batch of the second run")
                .hasSize(2 * sample.requests().size() - batches.size());
            assertThat(readAtLeast(service, "cohort-sync.partner-sync", PartnerSyncEvent.class, expectedEvents))
                .hasSize(expectedEvents);

            // `produce --file`: Amplitude payloads from a file, the second a retry of the first.
            final String payload = "{\"cohort_id\": \"file-c1\", \"cohort_name\": \"From a file\", "
                + "\"in_cohort\": true, \"computed_time\": \"1692206763\", \"message_id\": \"file-m1\", \"users\": ["
                + "{\"user_id\": null, \"device_id\": \"file-dev-1\", \"user_properties\": {}},"
                + "{\"user_id\": null, \"device_id\": \"file-dev-2\", \"user_properties\": {}}]}";
            final Path payloads = Files.writeString(dir.resolve("payloads.ndjson"), payload + "\n" + payload + "\n");
            assertThat(CohortSyncCli.commandLine().execute("produce", "--file", payloads.toString(), "--account",
                "demo", "--set", "embedded.data-dir=" + dir.resolve("kafka"))).isZero();
            assertThat(readAtLeast(service, "cohort-sync.partner-sync", PartnerSyncEvent.class, expectedEvents + 2))
                .hasSize(expectedEvents + 2)
                .filteredOn(e -> e.value().getProperties().get("Partner Segment ID").equals("file-c1"))
                .extracting(ConsumerRecord::key).containsExactlyInAnyOrder("demo|file-dev-1", "demo|file-dev-2");
        }
    }

    private int produceSample() {
        return CohortSyncCli.commandLine().execute("produce-sample", "--users", String.valueOf(USERS),
            "--set", "embedded.data-dir=" + dir.resolve("kafka"));
    }

    /** Every ADD member joins its cohort once and every REMOVE member leaves once; the retried batch adds nothing. */
    private static int expectedEvents(final SampleDataset sample) {
        final List<CohortSyncRequest> requests = sample.requests();
        return requests.subList(0, requests.size() - 1).stream()
            .mapToInt(r -> r.getMembers().size())
            .sum();
    }

    private static <V extends org.apache.avro.specific.SpecificRecord> List<ConsumerRecord<String, V>> readAtLeast(
        final CohortSyncService service, final String topic, final Class<V> type, final int count) {
        final Deserializer<V> deserializer = ConfluentAvroSerde.specific(type,
            Map.of("schema.registry.url", service.schemaRegistryUrl()), false).deserializer();
        final Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, service.bootstrapServers(),
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        final List<ConsumerRecord<String, V>> records = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(config, new StringDeserializer(), deserializer)) {
            final List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            final long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            long quietSince = System.nanoTime();
            while (System.nanoTime() < deadline) {
                final int before = records.size();
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                if (records.size() != before) {
                    quietSince = System.nanoTime();
                } else if (records.size() >= count && System.nanoTime() - quietSince > Duration.ofSeconds(2).toNanos()) {
                    break;
                }
            }
        }
        return records;
    }

    private static String defaultAccounts() throws IOException {
        try (InputStream in = CohortSyncCli.class.getResourceAsStream("/default-config.yaml")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

}
