package io.cohortsync.identity;

import io.cohortsync.avro.Profile;
import io.cohortsync.deadletter.DeadLetters;
import io.cohortsync.deadletter.InputDecoder;
import io.cohortsync.deadletter.ReasonCode;
import io.cohortsync.deadletter.Rejection;
import io.cohortsync.internal.IndexAction;
import io.cohortsync.internal.IndexEntry;
import io.cohortsync.internal.IndexUpdate;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Keeps the profile table (one partition of {@code cohort-sync.profiles}) and turns every profile change into
 * updates of the identity index: keys the profile lost are removed, keys it gained or changed are put, except the key
 * identity resolution already wrote when it created the profile ({@link IndexedKeyHeader}).
 */
final class ProfileIndexProcessor implements Processor<byte[], byte[], String, Object> {

    private static final Logger LOG = LoggerFactory.getLogger(ProfileIndexProcessor.class);

    private final Deserializer<Profile> profileDeserializer;
    private final int maxRecordBytes;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, Profile> profiles;
    private InputDecoder<Profile> decoder;

    ProfileIndexProcessor(final Deserializer<Profile> profileDeserializer, final int maxRecordBytes) {
        this.profileDeserializer = profileDeserializer;
        this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public void init(final ProcessorContext<String, Object> context) {
        this.context = context;
        this.profiles = context.getStateStore(IdentityTopology.PROFILES_STORE);
        this.decoder = new InputDecoder<>(profileDeserializer, maxRecordBytes);
    }

    @Override
    public void process(final Record<byte[], byte[]> record) {
        final String topic = context.recordMetadata().map(m -> m.topic()).orElse("profiles");
        final InputDecoder.Result<Profile> decoded = decoder.decode(topic, record.value());
        if (decoded.rejected()) {
            deadLetter(record, decoded.reason(), decoded.message());
            return;
        }
        if (record.key() == null) {
            deadLetter(record, ReasonCode.KEY_MISMATCH, "profile records need the key <accountId>|<objectId>");
            return;
        }
        final String key = new String(record.key(), StandardCharsets.UTF_8);
        final Profile profile = decoded.value();
        if (profile != null) {
            final Rejection problem = problemWith(key, profile);
            if (problem != null) {
                deadLetter(record, problem.reason(), problem.message());
                return;
            }
            final String tooLong = IdentityRules.valueTooLong(profile);
            if (tooLong != null) {
                deadLetter(record, ReasonCode.VALUE_TOO_LONG, "the profile's " + tooLong + " is over "
                    + IdentityRules.MAX_VALUE_CHARS + " characters (for an alias: its account, label and name "
                    + "together over 1,280); the identity index cannot carry it. The profile's previous version, if "
                    + "any, stays in the profile table and the index");
                return;
            }
        }
        final Profile before = profiles.get(key);
        apply(key, before, profile, record.timestamp(), alreadyIndexed(record, before, profile));
    }

    /**
     * The key the header says resolution indexed, trusted only for a profile new to the table: resolution creates a
     * profile only for a key no profile has, so a later version carrying the header copied one that does not describe
     * it (a service that updates profiles and forwards headers, as Kafka Streams does by default). Trusting it there
     * would leave a key that came back to the profile unindexed, and the next sync would create a duplicate.
     */
    private String alreadyIndexed(final Record<byte[], byte[]> record, final Profile before, final Profile after) {
        return after == null || before != null ? null
            : IndexedKeyHeader.read(record.headers(), context.applicationId()).orElse(null);
    }

    /** {@code alreadyIndexed}: the key identity resolution wrote when it created this profile, or null. */
    private void apply(final String key, final Profile before, final Profile after, final long timestamp,
                       final String alreadyIndexed) {
        final Map<String, IndexEntry> lost = before == null ? Map.of() : IdentityRules.indexKeysOf(before);
        final Map<String, IndexEntry> gained = after == null ? Map.of() : IdentityRules.indexKeysOf(after);
        lost.forEach((lookupKey, entry) -> {
            if (!gained.containsKey(lookupKey)) {
                forward(new IndexUpdate(lookupKey, IndexAction.REMOVE, entry), timestamp);
            }
        });
        gained.forEach((lookupKey, entry) -> {
            if (!entry.equals(lost.get(lookupKey)) && !lookupKey.equals(alreadyIndexed)) {
                forward(new IndexUpdate(lookupKey, IndexAction.PUT, entry), timestamp);
            }
        });
        if (after == null) {
            profiles.delete(key);
        } else {
            profiles.put(key, after);
        }
    }

    private void forward(final IndexUpdate update, final long timestamp) {
        context.forward(new Record<>(update.getLookupKey(), update, timestamp));
    }

    private static Rejection problemWith(final String key, final Profile profile) {
        if (profile.getAccountId() == null || profile.getAccountId().isBlank()) {
            return new Rejection(ReasonCode.MISSING_ACCOUNT_ID, "accountId is missing or blank");
        }
        if (profile.getObjectId() == null || profile.getObjectId().isBlank()) {
            return new Rejection(ReasonCode.MISSING_OBJECT_ID, "objectId is missing or blank");
        }
        if (profile.getAccountId().contains("|")) {
            // Index keys are '<accountId>|<kind>|<value>': account 'ct|i' would own keys of account 'ct', whose
            // members would then be matched to another account's profile.
            return new Rejection(ReasonCode.INVALID_ID, "accountId must not contain '|', the key separator");
        }
        final String expected = profile.getAccountId() + "|" + profile.getObjectId();
        return expected.equals(key) ? null
            : new Rejection(ReasonCode.KEY_MISMATCH, "profile key must be '" + expected + "' but was '" + key + "'");
    }

    private void deadLetter(final Record<byte[], byte[]> record, final ReasonCode reason, final String message) {
        LOG.warn("Dead-lettering profile at {}: {} ({})", context.recordMetadata().map(Object::toString).orElse("?"),
            reason, message);
        DeadLetters.forward(context, record, reason, message);
    }
}
