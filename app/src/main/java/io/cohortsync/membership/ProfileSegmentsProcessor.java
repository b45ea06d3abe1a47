package io.cohortsync.membership;

import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.deadletter.DeadLetters;
import io.cohortsync.deadletter.InputDecoder;
import io.cohortsync.deadletter.ReasonCode;
import io.cohortsync.deadletter.Rejection;
import io.cohortsync.internal.ProfileSegment;
import io.cohortsync.metrics.CohortSyncMetrics;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Applies one Partner Sync event to its profile's segment list: Added puts, Removed deletes. The membership stage
 * emits one (segment, profile)'s changes in order, and the event topic is keyed by profile, so they arrive in
 * order. Forwards only dead letters (to the dead-letter sink). Takes raw bytes, or decoded events from a typed
 * source.
 *
 * <p>It reads every record of the partner-sync topic, whichever account it belongs to, so it is the stage that
 * dead-letters a record of that topic that does not decode or lacks its ids; the export, which shares the source,
 * skips such records so that one bad record makes one dead letter.
 */
final class ProfileSegmentsProcessor implements Processor<Object, Object, byte[], DeadLetter> {

    private static final Logger LOG = LoggerFactory.getLogger(ProfileSegmentsProcessor.class);

    private final Deserializer<PartnerSyncEvent> deserializer;
    private final int maxRecordBytes;
    private final CohortSyncMetrics metrics;
    private ProcessorContext<byte[], DeadLetter> context;
    private InputDecoder<PartnerSyncEvent> decoder;
    private KeyValueStore<String, ProfileSegment> segments;

    ProfileSegmentsProcessor(final Deserializer<PartnerSyncEvent> deserializer, final int maxRecordBytes,
                             final CohortSyncMetrics metrics) {
        this.deserializer = deserializer;
        this.maxRecordBytes = maxRecordBytes;
        this.metrics = metrics;
    }

    @Override
    public void init(final ProcessorContext<byte[], DeadLetter> context) {
        this.context = context;
        this.decoder = new InputDecoder<>(deserializer, maxRecordBytes);
        this.segments = context.getStateStore(ProfileSegmentsTopology.STORE);
    }

    @Override
    public void process(final Record<Object, Object> record) {
        final PartnerSyncEvent event = decode(record);
        if (event == null) {
            return;
        }
        final Optional<Rejection> problem = PartnerSyncEvents.problemWith(keyText(record.key()), event);
        if (problem.isPresent()) {
            deadLetter(record, problem.get().reason(), problem.get().message());
            return;
        }
        final String cohortId = event.getProperties().get("Partner Segment ID");
        apply(event, cohortId);
        metrics.partnerSyncEvent(event);
    }

    private PartnerSyncEvent decode(final Record<Object, Object> record) {
        if (record.value() instanceof PartnerSyncEvent event) {
            return event;
        }
        final String topic = context.recordMetadata().map(RecordMetadata::topic).orElse("partner-sync");
        final InputDecoder.Result<PartnerSyncEvent> decoded = decoder.decode(topic, (byte[]) record.value());
        if (decoded.rejected()) {
            deadLetter(record, decoded.reason(), decoded.message());
        } else if (decoded.value() == null) {
            deadLetter(record, ReasonCode.DESERIALIZATION_FAILED, "a Partner Sync event must have a value; got a "
                + "tombstone");
        }
        return decoded.value();
    }

    private void apply(final PartnerSyncEvent event, final String cohortId) {
        final String key = keyOf(event.getAccountId(), event.getObjectId(), cohortId);
        if (PartnerSyncEvents.REMOVED.equals(event.getProperties().get("Action"))) {
            segments.delete(key);
        } else {
            segments.put(key, new ProfileSegment(cohortId, event.getProperties().get("Partner Segment Name"),
                event.getTimestamp().toEpochMilli()));
        }
    }

    /** The store key: {@code <account>|<objectId>|<cohortId>}. */
    static String keyOf(final String accountId, final String objectId, final String cohortId) {
        return accountId + "|" + objectId + "|" + cohortId;
    }

    private static String keyText(final Object key) {
        if (key instanceof byte[] bytes) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
        return key == null ? null : key.toString();
    }

    private void deadLetter(final Record<Object, Object> record, final ReasonCode reason, final String message) {
        LOG.warn("Dead-lettering Partner Sync event at {}: {} ({})",
            context.recordMetadata().map(Object::toString).orElse("?"), reason, message);
        final byte[] key = record.key() instanceof byte[] bytes ? bytes
            : record.key() == null ? null : record.key().toString().getBytes(StandardCharsets.UTF_8);
        final byte[] value = record.value() instanceof byte[] bytes ? bytes : null;
        context.forward(new Record<>(key, DeadLetters.of(context.recordMetadata(), record.timestamp(), key, value,
            reason, message, context.currentSystemTimeMs()), record.timestamp()));
    }
}
