package io.cohortsync.faults;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.ingest.IngestTopology;
import io.cohortsync.runtime.ConsumerLag;
import io.cohortsync.serde.ConfluentAvroSerde;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Drives an {@link ImportWorkload} through a cohort-sync application on a broker and checks its outputs exactly, the
 * way Kafka's exactly-once system tests do: every Partner Sync event expected is there once, nothing else is, every
 * new profile was created once, and every batch was reported once.
 */
final class ImportCheck {

    private static final Logger LOG = LoggerFactory.getLogger(ImportCheck.class);

    private final String bootstrap;
    private final String applicationId;
    private final String prefix;
    private final Map<String, Object> serdeConfig;
    private final ImportWorkload workload;
    private final List<Map.Entry<String, CohortSyncRequest>> requests;
    private final List<String> expectedEvents;
    private int produced;

    /** For an application whose application-id is {@code applicationId} and topic prefix {@code applicationId.}. */
    ImportCheck(final String bootstrap, final String applicationId, final Map<String, Object> serdeConfig,
                final ImportWorkload workload) {
        this.bootstrap = bootstrap;
        this.applicationId = applicationId;
        this.prefix = applicationId + ".";
        this.serdeConfig = serdeConfig;
        this.workload = workload;
        this.requests = workload.requests();
        // Built once: tests poll expectedEventCount() while they wait.
        this.expectedEvents = workload.expectedEvents();
    }

    String topic(final String name) {
        return prefix + name;
    }

    void produceProfiles() {
        produce(topic("profiles"), Profile.class, new ArrayList<>(workload.existingProfiles().entrySet()));
    }

    /**
     * Produces the next share of the requests not produced yet: a {@code 1/wavesLeft} share, so that {@code n} calls
     * with wavesLeft n, n-1, ... 1 produce all of them in order.
     */
    void produceNextWave(final int wavesLeft) {
        final int remaining = requests.size() - produced;
        final int wave = wavesLeft <= 1 ? remaining : remaining / wavesLeft;
        produce(topic("requests"), CohortSyncRequest.class, requests.subList(produced, produced + wave));
        produced += wave;
    }

    /**
     * Produces the next wave ({@link #produceNextWave}), then waits either a random 0.2-0.8 s ({@code early}: before
     * any of it can be committed, as that takes a commit interval per hop) or until the wave's first Partner Sync
     * events are committed, then produces one more batch of the following requests; says which, for the log.
     *
     * <p>That batch is what keeps the late kill mid-stream: the wave's events and its sync reports can leave in one
     * transaction per hop, so by the time its first events are seen the whole wave may be reported (it was, once, in
     * CI). A batch produced a moment before the kill needs a commit interval per hop before it is reported.
     */
    String produceWaveAndWait(final int wavesLeft, final CommittedTopic.Counter events, final boolean early,
                              final Random random) {
        final long eventsBefore = events.count();
        produceNextWave(wavesLeft);
        if (early) {
            final Duration delay = Duration.ofMillis(200 + random.nextInt(600));
            await("a pause after the wave").pollDelay(delay).atMost(delay.plusSeconds(5)).until(() -> true);
            return delay.toMillis() + " ms after a wave";
        }
        await("the wave's first events committed").atMost(Duration.ofMinutes(5))
            .until(() -> events.count() > eventsBefore);
        final long committed = events.count() - eventsBefore;
        if (requests.size() - produced > 1) {
            produce(topic("requests"), CohortSyncRequest.class, requests.subList(produced, produced + 1));
            produced++;
        }
        return "once " + committed + " events of the wave were committed and one more batch produced";
    }

    /** How far the import is, read now: batches produced, and sync reports a read_committed consumer sees. */
    Progress progress() {
        return new Progress(committedReports(), produced);
    }

    /**
     * One reading of the import's progress. While a batch produced is not yet reported, the import is mid-stream: a
     * kill or restart then interrupts it rather than hitting an idle service.
     */
    record Progress(int reported, int produced) {
        boolean midStream() {
            return reported < produced;
        }

        @Override
        public String toString() {
            return reported + " of " + produced + " batches reported";
        }
    }

    private int committedReports() {
        return CommittedTopic.readAll(bootstrap, topic("sync-reports"), new ByteArrayDeserializer()).size();
    }

    /** Waits until the application has indexed every profile, so existing identities are matched, not created. */
    void awaitProfilesIndexed(final Admin admin, final Duration timeout) throws InterruptedException {
        assertThat(ConsumerLag.awaitCaughtUp(admin, applicationId, List.of(topic("profiles"),
            internal(IdentityTopology.INDEX_UPDATES_TOPIC)), timeout)).as("profiles indexed within " + timeout).isTrue();
    }

    /** Waits until the application has committed past every request and every internal record. */
    void awaitAllProcessed(final Admin admin, final Duration timeout) throws InterruptedException {
        assertThat(ConsumerLag.awaitCaughtUp(admin, applicationId, List.of(topic("requests"), topic("profiles"),
                internal(IngestTopology.LOOKUPS_TOPIC), internal(IngestTopology.BATCHES_TOPIC),
                internal(IdentityTopology.INDEX_UPDATES_TOPIC), internal(IdentityTopology.RESOLVED_TOPIC)), timeout))
            .as("everything processed within " + timeout).isTrue();
    }

    /** Partner Sync events the workload must produce in total. */
    int expectedEventCount() {
        return expectedEvents.size();
    }

    /** Asserts the outputs are exactly right; returns a one-line summary for the log and the issue note. */
    String assertExactlyOnce() {
        final List<Profile> created = CommittedTopic.readAll(bootstrap, topic("profiles"),
                ConfluentAvroSerde.specific(Profile.class, serdeConfig, false).deserializer()).stream()
            .map(ConsumerRecord::value).filter(p -> ImportWorkload.CREATED_BY.equals(p.getCreatedBy())).toList();
        final Map<String, Long> createdPerObject = created.stream()
            .collect(Collectors.groupingBy(Profile::getObjectId, Collectors.counting()));
        assertThat(createdPerObject.values()).as("profiles written more than once").allMatch(count -> count == 1);
        final Map<String, String> refByObjectId = created.stream()
            .collect(Collectors.toMap(Profile::getObjectId, ImportWorkload::createdRef));
        assertThat(Set.copyOf(refByObjectId.values())).as("created profiles")
            .hasSize(created.size()).isEqualTo(workload.expectedCreated());

        final List<ConsumerRecord<String, PartnerSyncEvent>> events = CommittedTopic.readAll(bootstrap,
            topic("partner-sync"), ConfluentAvroSerde.specific(PartnerSyncEvent.class, serdeConfig, false)
                .deserializer());
        assertThat(events.stream().map(e -> e.value().getEventId()).distinct().count()).as("distinct eventIds")
            .isEqualTo(events.size());
        final List<String> actual = events.stream().map(e -> describe(e, refByObjectId)).toList();
        assertSameMultiset(actual, expectedEvents);

        final List<SyncReport> reports = CommittedTopic.readAll(bootstrap, topic("sync-reports"),
                ConfluentAvroSerde.specific(SyncReport.class, serdeConfig, false).deserializer()).stream()
            .map(ConsumerRecord::value).toList();
        assertThat(reports.stream().filter(r -> !r.getDuplicate()).map(r -> r.getMessageId().toString()).toList())
            .as("one report per batch").doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(workload.messageIds());
        // At least the workload's own re-sent batches; more if a producer retry wrote a request twice.
        assertThat(reports.stream().filter(SyncReport::getDuplicate).map(r -> r.getMessageId().toString()).toList())
            .as("reports of re-sent batches").hasSizeGreaterThanOrEqualTo(workload.batches()
                - workload.messageIds().size()).allMatch(workload.messageIds()::contains);
        final String summary = String.format("%d members in %d batches -> %d Partner Sync events (none missing, none "
            + "duplicated), %d profiles created once each, %d sync reports", workload.members(), workload.batches(),
            events.size(), created.size(), reports.size());
        LOG.info("Exactly-once check passed: {}", summary);
        return summary;
    }

    private static String describe(final ConsumerRecord<String, PartnerSyncEvent> event,
                                   final Map<String, String> refByObjectId) {
        final String objectId = event.key().substring(event.key().indexOf('|') + 1);
        final Map<String, String> properties = event.value().getProperties();
        return refByObjectId.getOrDefault(objectId, objectId) + "|" + properties.get("Partner Segment ID") + "|"
            + properties.get("Action");
    }

    private static void assertSameMultiset(final Collection<String> actual, final Collection<String> expected) {
        final Map<String, Long> difference = new TreeMap<>(count(actual));
        count(expected).forEach((event, times) -> difference.merge(event, -times, Long::sum));
        difference.values().removeIf(times -> times == 0);
        final long missing = difference.values().stream().filter(times -> times < 0).mapToLong(times -> -times).sum();
        final long extra = difference.values().stream().filter(times -> times > 0).mapToLong(times -> times).sum();
        assertThat(difference.entrySet().stream().limit(20).map(e -> e.getKey() + " " + (e.getValue() > 0 ? "+" : "")
                + e.getValue()).toList())
            .as("Partner Sync events: %d missing, %d duplicated or unexpected, of %d expected (first 20 differences)",
                missing, extra, expected.size())
            .isEmpty();
    }

    private static Map<String, Long> count(final Collection<String> events) {
        return events.stream().collect(Collectors.groupingBy(Function.identity(), HashMap::new,
            Collectors.counting()));
    }

    private String internal(final String topic) {
        return applicationId + "-" + topic + "-repartition";
    }

    private <V extends SpecificRecord> void produce(final String topic, final Class<V> type,
                                                    final List<Map.Entry<String, V>> records) {
        final Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        // Not idempotent: right after a test-kit broker restart, an idempotent producer was seen retrying one batch
        // forever (OUT_OF_ORDER_SEQUENCE_NUMBER for a sequence the restarted broker had already appended). One
        // request in flight keeps the order; a retry that duplicates a request is a re-sent batch, which the
        // service must and does recognise by its messageId (see the duplicate reports checked below).
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 10);
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 * 1024 * 1024);
        try (KafkaProducer<String, V> producer = new KafkaProducer<>(config, new StringSerializer(),
            ConfluentAvroSerde.specific(type, serdeConfig, false).serializer())) {
            records.forEach(record -> producer.send(new ProducerRecord<>(topic, record.getKey(), record.getValue())));
            producer.flush();
        }
    }
}
