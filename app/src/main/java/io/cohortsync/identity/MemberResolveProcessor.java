package io.cohortsync.identity;

import io.cohortsync.avro.Operation;
import io.cohortsync.avro.Profile;
import io.cohortsync.internal.BatchInfo;
import io.cohortsync.internal.IndexEntry;
import io.cohortsync.internal.LookupChunk;
import io.cohortsync.internal.MemberLookup;
import io.cohortsync.internal.Resolution;
import io.cohortsync.internal.ResolvedChunk;
import io.cohortsync.internal.ResolvedMember;
import io.cohortsync.ingest.RequestRules;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Resolves a chunk of lookups against this partition's identity index. A missing profile is created when the
 * account allows it: its index entry is written at once, so a second member with the same key, in this batch or any
 * other, finds it; and the profile goes to the profiles topic, its header naming the key already indexed.
 *
 * <p>Until {@code profilesLoaded} says the profile table has read the profiles that were on the profiles topic when
 * the service started, chunks are held in order instead: resolved against a half-loaded index, a member whose
 * profile is further down the topic would get a second profile (a first start, or a restart after the platform wrote
 * many profiles). They are resolved, oldest first, once it has.
 *
 * <p>The release punctuation is scheduled only while chunks are held: Kafka Streams commits a task whenever one of
 * its punctuators fires, so a punctuation every 200 ms on every task made each idle stream thread commit a
 * transaction every commit interval under exactly_once_v2.
 */
final class MemberResolveProcessor implements Processor<String, LookupChunk, String, Object> {

    /** How often held chunks are looked at, and how many members one look resolves at most. */
    static final Duration RELEASE_INTERVAL = Duration.ofMillis(200);
    static final int RELEASE_MAX_MEMBERS = 10_000;

    private final BooleanSupplier profilesLoaded;
    private ProcessorContext<String, Object> context;
    private IdentityIndex index;
    private HeldLookups held;
    /** The scheduled release, or null while nothing is held. */
    private Cancellable release;

    MemberResolveProcessor(final BooleanSupplier profilesLoaded) {
        this.profilesLoaded = profilesLoaded;
    }

    @Override
    public void init(final ProcessorContext<String, Object> context) {
        this.context = context;
        this.index = new IdentityIndex(context.getStateStore(IdentityTopology.INDEX_STORE));
        this.held = new HeldLookups(context.getStateStore(IdentityTopology.HELD_LOOKUPS_STORE));
        // A revived task is initialised again and keeps its punctuators: the one scheduled before must not stay too.
        stopReleasing();
        // Chunks restored from the changelog (a crash or a moved task while holding) are released like new ones.
        if (!held.isEmpty()) {
            scheduleRelease();
        }
    }

    @Override
    public void process(final Record<String, LookupChunk> record) {
        // Behind held chunks a chunk waits too, even once profiles are loaded: a batch never overtakes an older one.
        if (!held.isEmpty() || !profilesLoaded.getAsBoolean()) {
            held.hold(record.value(), record.timestamp());
            scheduleRelease();
            return;
        }
        resolve(record.value(), record.timestamp());
    }

    private void scheduleRelease() {
        if (release == null) {
            release = context.schedule(RELEASE_INTERVAL, PunctuationType.WALL_CLOCK_TIME, now -> releaseHeld());
        }
    }

    private void releaseHeld() {
        if (!held.isEmpty() && profilesLoaded.getAsBoolean()) {
            held.release(RELEASE_MAX_MEMBERS, this::resolve);
        }
        if (held.isEmpty()) {
            stopReleasing();
        }
    }

    private void stopReleasing() {
        if (release != null) {
            release.cancel();
            release = null;
        }
    }

    private void resolve(final LookupChunk chunk, final long timestamp) {
        final BatchInfo batch = chunk.getBatch();
        final List<ResolvedMember> resolved = new ArrayList<>(chunk.getLookups().size());
        for (final MemberLookup lookup : chunk.getLookups()) {
            resolved.add(resolve(batch, lookup, timestamp));
        }
        context.forward(new Record<>(RequestRules.keyOf(batch.getAccountId(), batch.getCohortId()),
            new ResolvedChunk(batch, resolved), timestamp));
    }

    private ResolvedMember resolve(final BatchInfo batch, final MemberLookup lookup, final long timestamp) {
        final IdentityIndex.Slot slot = index.slot(lookup.getLookupKey());
        final Optional<IndexEntry> found = slot.match();
        if (found.isPresent()) {
            return new ResolvedMember(Resolution.MATCHED, found.get().getObjectId(), found.get().getIdentity());
        }
        if (!lookup.getCreateIfMissing()) {
            // For a REMOVE, the objectId a later sync would create it under: membership marks it, so an older ADD
            // stays stale. Needless where no sync ever creates one (MATCH_ONLY), and for an unmatched ADD.
            final boolean remove = Operation.REMOVE.name().equals(batch.getOperation());
            final boolean marked = remove && IdentityRules.mayCreateLater(lookup);
            return new ResolvedMember(Resolution.UNMATCHED, marked ? slot.newObjectId() : null, null);
        }
        final String objectId = slot.newObjectId();
        final Profile profile = IdentityRules.newProfile(batch.getAccountId(), objectId, lookup, batch.getComputedAt());
        index.claim(slot, new IndexEntry(objectId, profile.getIdentity()));
        context.forward(new Record<>(batch.getAccountId() + "|" + objectId, profile, timestamp,
            IndexedKeyHeader.of(context.applicationId(), lookup.getLookupKey())));
        return new ResolvedMember(Resolution.CREATED, objectId, profile.getIdentity());
    }
}
