package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.avro.Profile;
import io.cohortsync.config.AccountSettings;
import io.cohortsync.deadletter.DeadLetters;
import io.cohortsync.deadletter.InputDecoder;
import io.cohortsync.deadletter.ReasonCode;
import io.cohortsync.deadletter.Rejection;
import io.cohortsync.identity.IdentityTopology;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Decodes one source event (Partner Sync or engagement), keeps it when its account exports it, and forwards either
 * the {@link AmplitudeEvent} (keyed {@code <accountId>|<user_id or device_id>}) or a dead letter. Reads the profile
 * table's store (never writes it) for id mappings that need profile fields.
 *
 * @param <T> the source record type
 */
final class ExportEventProcessor<T> implements Processor<byte[], byte[], String, Object> {

    private static final Logger LOG = LoggerFactory.getLogger(ExportEventProcessor.class);

    private final Deserializer<T> deserializer;
    private final int maxRecordBytes;
    private final BiFunction<T, Profile, ExportSource> toSource;
    private final Function<String, Optional<AccountSettings>> accounts;
    private final BiFunction<String, T, Optional<Rejection>> sourceRules;
    private final boolean deadLettersBadInput;
    private ProcessorContext<String, Object> context;
    private InputDecoder<T> decoder;
    private KeyValueStore<String, Profile> profiles;

    /**
     * @param sourceRules         the source topic's own rules for a decoded record and its key (beyond the ids and
     *                            key every source needs), as the stage that owns the topic's format applies them
     * @param deadLettersBadInput whether a record that does not decode, lacks its ids or its documented key, or
     *                            breaks {@code sourceRules} is dead-lettered here; false when another stage reading
     *                            the same source already dead-letters it, so one bad record makes one dead letter
     */
    ExportEventProcessor(final Deserializer<T> deserializer, final int maxRecordBytes,
                         final BiFunction<T, Profile, ExportSource> toSource,
                         final Function<String, Optional<AccountSettings>> accounts,
                         final BiFunction<String, T, Optional<Rejection>> sourceRules,
                         final boolean deadLettersBadInput) {
        this.deserializer = deserializer;
        this.maxRecordBytes = maxRecordBytes;
        this.toSource = toSource;
        this.accounts = accounts;
        this.sourceRules = sourceRules;
        this.deadLettersBadInput = deadLettersBadInput;
    }

    @Override
    public void init(final ProcessorContext<String, Object> context) {
        this.context = context;
        this.decoder = new InputDecoder<>(deserializer, maxRecordBytes);
        this.profiles = context.getStateStore(IdentityTopology.PROFILES_STORE);
    }

    @Override
    public void process(final Record<byte[], byte[]> record) {
        if (keyNamesAnAccountThatDoesNotExport(record.key())) {
            // Most Partner Sync and engagement events may belong to accounts that do not export: skip them
            // without decoding.
            return;
        }
        final String topic = context.recordMetadata().map(m -> m.topic()).orElse("export-source");
        final InputDecoder.Result<T> decoded = decoder.decode(topic, record.value());
        if (decoded.rejected()) {
            rejectBadInput(record, decoded.reason(), decoded.message());
            return;
        }
        if (decoded.value() == null) {
            rejectBadInput(record, ReasonCode.DESERIALIZATION_FAILED, "an event must have a value; got a tombstone");
            return;
        }
        final ExportSource withoutProfile = toSource.apply(decoded.value(), null);
        final String problem = problemWith(record.key(), withoutProfile);
        if (problem != null) {
            rejectBadInput(record, reasonFor(problem), problem);
            return;
        }
        final Optional<Rejection> broken = sourceRules.apply(keyText(record.key()), decoded.value());
        if (broken.isPresent()) {
            rejectBadInput(record, broken.get().reason(), broken.get().message());
            return;
        }
        if (withoutProfile.eventName() == null || withoutProfile.eventName().isBlank()) {
            // Before the selection: a nameless event is malformed for every account, not merely unselected.
            deadLetter(record, ReasonCode.MISSING_EVENT_NAME, "the event has no name (Amplitude's event_type)");
            return;
        }
        final Optional<ExportSettings> settings = accounts.apply(withoutProfile.accountId())
            .flatMap(AccountSettings::exportSettings);
        if (settings.isEmpty() || !settings.get().selects(withoutProfile.eventName())) {
            return;
        }
        export(record, decoded.value(), withoutProfile, settings.get());
    }

    private void export(final Record<byte[], byte[]> record, final T value, final ExportSource withoutProfile,
                        final ExportSettings settings) {
        final boolean needsProfile = settings.userId().needsProfile() || settings.deviceId().needsProfile();
        final ExportSource source = needsProfile
            ? toSource.apply(value, profiles.get(withoutProfile.accountId() + "|" + withoutProfile.objectId()))
            : withoutProfile;
        final ExportMapper.Result mapped = ExportMapper.map(source, settings);
        if (mapped.violation() != null) {
            deadLetter(record, mapped.violation().reason(), mapped.violation().message());
            return;
        }
        final AmplitudeEvent event = mapped.event();
        context.forward(new Record<>(ExportMapper.key(event), event, record.timestamp()));
    }

    private boolean keyNamesAnAccountThatDoesNotExport(final byte[] key) {
        if (key == null) {
            return false;
        }
        final String text = new String(key, StandardCharsets.UTF_8);
        final int bar = text.indexOf('|');
        return bar > 0 && accounts.apply(text.substring(0, bar)).flatMap(AccountSettings::exportSettings).isEmpty();
    }

    private static String problemWith(final byte[] keyBytes, final ExportSource source) {
        if (source.accountId() == null || source.accountId().isBlank()) {
            return "accountId is missing or blank";
        }
        if (source.objectId() == null || source.objectId().isBlank()) {
            return "objectId is missing or blank";
        }
        final String expected = source.accountId() + "|" + source.objectId();
        final String key = keyText(keyBytes);
        return expected.equals(key) ? null : "event key must be '" + expected + "' but was '" + key + "'";
    }

    private static String keyText(final byte[] keyBytes) {
        return keyBytes == null ? null : new String(keyBytes, StandardCharsets.UTF_8);
    }

    private static ReasonCode reasonFor(final String problem) {
        if (problem.startsWith("accountId")) {
            return ReasonCode.MISSING_ACCOUNT_ID;
        }
        return problem.startsWith("objectId") ? ReasonCode.MISSING_OBJECT_ID : ReasonCode.KEY_MISMATCH;
    }

    private void rejectBadInput(final Record<byte[], byte[]> record, final ReasonCode reason, final String message) {
        if (deadLettersBadInput) {
            deadLetter(record, reason, message);
        }
    }

    private void deadLetter(final Record<byte[], byte[]> record, final ReasonCode reason, final String message) {
        LOG.warn("Dead-lettering export source event at {}: {} ({})",
            context.recordMetadata().map(Object::toString).orElse("?"), reason, message);
        DeadLetters.forward(context, record, reason, message);
    }
}
