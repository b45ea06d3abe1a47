package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.deadletter.InputDecoder;
import io.cohortsync.deadletter.ReasonCode;
import io.cohortsync.serde.SchemaRegistryUnavailableException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Takes in the polled export records: each is tracked by its partition's progress from the moment it is read, then
 * queued for its account's user, dead-lettered when it cannot be exported (undecodable, no or an unknown account, too
 * large alone), or parked when its account stopped. Owned by the exporter's loop thread.
 */
final class RecordIntake {

    private final InputDecoder<AmplitudeEvent> decoder;
    private final Consumer<byte[], byte[]> consumer;
    private final PartitionOffsets offsets;
    private final Map<String, AccountExport> accounts;
    private final Backpressure backpressure;
    private final DeadLetterWriter deadLetters;
    private final WarningThrottle warnings;
    private final EventJson.Writer jsonWriter = new EventJson.Writer();

    RecordIntake(final InputDecoder<AmplitudeEvent> decoder, final Consumer<byte[], byte[]> consumer,
                 final PartitionOffsets offsets, final Map<String, AccountExport> accounts,
                 final Backpressure backpressure, final DeadLetterWriter deadLetters, final WarningThrottle warnings) {
        this.decoder = decoder;
        this.consumer = consumer;
        this.offsets = offsets;
        this.accounts = accounts;
        this.backpressure = backpressure;
        this.deadLetters = deadLetters;
        this.warnings = warnings;
    }

    void ingestAll(final ConsumerRecords<byte[], byte[]> records, final long now) {
        for (final TopicPartition partition : records.partitions()) {
            for (final ConsumerRecord<byte[], byte[]> record : records.records(partition)) {
                try {
                    ingest(record, now);
                } catch (final SchemaRegistryUnavailableException e) {
                    // Not the record's fault: read it again on a later poll (the registry client's own timeout
                    // spaces the attempts out); nothing after it in this partition is taken before it.
                    warnings.warn("registry", "The schema registry is unavailable (" + e.getMessage() + "); export "
                        + "records are read again until it answers");
                    consumer.seek(partition, record.offset());
                    break;
                }
            }
        }
    }

    private void ingest(final ConsumerRecord<byte[], byte[]> record, final long now) {
        final PartitionProgress progress = offsets.progressOf(new TopicPartition(record.topic(), record.partition()));
        if (progress == null) {
            return;
        }
        final InputDecoder.Result<AmplitudeEvent> decoded = decoder.decode(record.topic(), record.value());
        if (decoded.rejected() || decoded.value() == null) {
            final PendingEvent bad = track(progress, record, null, null, now);
            deadLetters.write(bad, decoded.rejected() ? decoded.reason() : ReasonCode.DESERIALIZATION_FAILED,
                decoded.rejected() ? decoded.message() : "an export record must have a value; got a tombstone");
            return;
        }
        final AmplitudeEvent event = decoded.value();
        final AccountExport account = exportingAccount(progress, record, event, now);
        if (account == null) {
            return;
        }
        if (account.stopped) {
            progress.park(record.offset());
            return;
        }
        enqueue(account, progress, record, event, now);
    }

    /** The account that exports the event, or null once the event is dead-lettered for naming none. */
    private AccountExport exportingAccount(final PartitionProgress progress,
                                           final ConsumerRecord<byte[], byte[]> record, final AmplitudeEvent event,
                                           final long now) {
        if (event.getAccountId() == null || event.getAccountId().isBlank()) {
            deadLetters.write(track(progress, record, event, null, now), ReasonCode.MISSING_ACCOUNT_ID,
                "account_id is missing or blank; it names the account whose export settings send the event");
            return null;
        }
        final AccountExport account = accounts.get(event.getAccountId());
        if (account == null) {
            deadLetters.write(track(progress, record, event, null, now), ReasonCode.UNKNOWN_ACCOUNT, "account '"
                + event.getAccountId() + "' has no export settings (accounts." + event.getAccountId() + ".export)");
        }
        return account;
    }

    /** Queues the event for its user, or dead-letters it when even alone it is larger than a request may be. */
    private void enqueue(final AccountExport account, final PartitionProgress progress,
                         final ConsumerRecord<byte[], byte[]> record, final AmplitudeEvent event, final long now) {
        final byte[] json = jsonWriter.write(event);
        final PendingEvent pending = track(progress, record, event, json, now);
        if (!account.fits(json)) {
            deadLetters.write(pending, ReasonCode.EVENT_TOO_LARGE, "the event alone is " + json.length + " bytes; a "
                + account.settings.endpoint() + " request may carry " + account.settings.endpoint().maxBytes());
            return;
        }
        final String key = record.key() != null ? new String(record.key(), StandardCharsets.UTF_8)
            : ExportMapper.key(event);
        account.add(pending, key, now);
        backpressure.hold(pending);
    }

    private static PendingEvent track(final PartitionProgress progress, final ConsumerRecord<byte[], byte[]> record,
                                      final AmplitudeEvent event, final byte[] json, final long now) {
        final PendingEvent pending = new PendingEvent(progress, record.offset(), record.timestamp(), record.key(),
            record.value(), event, json, now);
        progress.track(pending);
        return pending;
    }
}
