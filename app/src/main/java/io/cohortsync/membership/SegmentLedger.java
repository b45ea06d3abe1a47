package io.cohortsync.membership;

import io.cohortsync.avro.Operation;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.avro.SyncType;
import io.cohortsync.internal.BatchInfo;
import io.cohortsync.internal.BatchOpened;
import io.cohortsync.internal.BatchProgress;
import io.cohortsync.internal.MembershipState;
import io.cohortsync.internal.SegmentStats;
import org.apache.kafka.streams.processor.api.ProcessingContext;
import org.apache.kafka.streams.state.KeyValueStore;

import java.time.Instant;
import java.util.Optional;

/**
 * The membership stores of one partition of segments, and the rules of ARCHITECTURE section 5 that change them.
 * Keys: segments {@code <account>|<cohort>}; members {@code <account>|<cohort>|<objectId>};
 * batches {@code <account>|<cohort>|<messageId>}.
 */
final class SegmentLedger {

    /** What applying one change to one profile did. */
    enum Outcome { ADDED, REMOVED, UNCHANGED, STALE }

    private final KeyValueStore<String, MembershipState> members;
    private final KeyValueStore<String, SegmentStats> segments;
    private final KeyValueStore<String, BatchProgress> batches;

    SegmentLedger(final ProcessingContext context) {
        this.members = context.getStateStore(MembershipTopology.MEMBERS_STORE);
        this.segments = context.getStateStore(MembershipTopology.SEGMENTS_STORE);
        this.batches = context.getStateStore(MembershipTopology.BATCHES_STORE);
    }

    static String segmentKey(final BatchInfo batch) {
        return batch.getAccountId() + "|" + batch.getCohortId();
    }

    /**
     * ADD of a non-member adds, REMOVE of a member removes, anything else changes nothing; a change computed before
     * the last one applied to this profile is stale. Non-members keep a marker so a late, older ADD stays stale.
     */
    Outcome apply(final BatchInfo batch, final String objectId, final String identity) {
        final String key = segmentKey(batch) + "|" + objectId;
        final MembershipState state = members.get(key);
        final long computedAt = batch.getComputedAt();
        if (state != null && computedAt < state.getComputedAt()) {
            return Outcome.STALE;
        }
        final boolean add = Operation.ADD.name().equals(batch.getOperation());
        final boolean wasMember = state != null && state.getMember();
        final boolean changed = add != wasMember;
        final long since = changed || state == null ? computedAt : state.getSince();
        members.put(key, new MembershipState(add, computedAt, since, identity));
        if (!changed) {
            return Outcome.UNCHANGED;
        }
        return add ? Outcome.ADDED : Outcome.REMOVED;
    }

    /**
     * A REMOVE of a user who has no profile yet (so no membership either): a non-member marker under the objectId a
     * later sync would create the profile with, so that an ADD computed earlier but arriving later stays stale
     * instead of adding the user for good. Nothing else changes and nothing is counted beyond {@code unmatched}.
     */
    void markNeverAdded(final BatchInfo batch, final String objectId) {
        final String key = segmentKey(batch) + "|" + objectId;
        final MembershipState state = members.get(key);
        if (state == null || !state.getMember() && state.getComputedAt() < batch.getComputedAt()) {
            members.put(key, new MembershipState(false, batch.getComputedAt(), batch.getComputedAt(), null));
        }
    }

    SegmentStats segment(final BatchInfo batch) {
        final SegmentStats stats = segments.get(segmentKey(batch));
        return stats != null ? stats : SegmentStats.newBuilder()
            .setAccountId(batch.getAccountId())
            .setCohortId(batch.getCohortId())
            .build();
    }

    /** A newer cohort name renames the segment. */
    static void rename(final SegmentStats stats, final BatchInfo batch) {
        if (batch.getCohortName() != null && !batch.getCohortName().isBlank()
            && batch.getComputedAt() >= stats.getNameComputedAt()) {
            stats.setName(batch.getCohortName());
            stats.setNameComputedAt(batch.getComputedAt());
        }
    }

    static void recordSync(final SegmentStats stats, final BatchInfo batch) {
        stats.setBatches(stats.getBatches() + 1);
        if (stats.getLastSyncAt() == null || batch.getComputedAt() >= stats.getLastSyncAt()) {
            stats.setLastSyncAt(batch.getComputedAt());
            stats.setLastSyncType(batch.getSyncType());
        }
    }

    void saveSegment(final SegmentStats stats) {
        segments.put(stats.getAccountId() + "|" + stats.getCohortId(), stats);
    }

    BatchProgress progress(final BatchInfo batch) {
        final BatchProgress progress = batches.get(batchKey(batch));
        return progress != null ? progress : BatchProgress.newBuilder().build();
    }

    /** Saves the progress, or, once every member is counted, forgets it and returns the finished report. */
    Optional<SyncReport> saveOrComplete(final BatchInfo batch, final BatchProgress progress, final long now) {
        final BatchOpened opened = progress.getOpened();
        if (opened != null && progress.getResolved() >= opened.getExpectedResolved()) {
            batches.delete(batchKey(batch));
            return Optional.of(report(opened, progress, now));
        }
        batches.put(batchKey(batch), progress);
        return Optional.empty();
    }

    static SyncReport duplicateReport(final BatchOpened opened, final long now) {
        return baseReport(opened, now).setDuplicate(true).build();
    }

    private static SyncReport report(final BatchOpened opened, final BatchProgress progress, final long now) {
        final int rejected = opened.getRejectedByReason().values().stream().mapToInt(Integer::intValue).sum();
        return baseReport(opened, now)
            .setMembers(opened.getMembers())
            .setMatched(progress.getMatched())
            .setCreated(progress.getCreated())
            .setUnmatched(progress.getUnmatched())
            .setRejected(rejected)
            .setRejectedByReason(opened.getRejectedByReason())
            .setAdded(progress.getAdded())
            .setRemoved(progress.getRemoved())
            .setUnchanged(progress.getUnchanged())
            .setStale(progress.getStale())
            .build();
    }

    private static SyncReport.Builder baseReport(final BatchOpened opened, final long now) {
        final BatchInfo batch = opened.getBatch();
        return SyncReport.newBuilder()
            .setAccountId(batch.getAccountId())
            .setCohortId(batch.getCohortId())
            .setCohortName(batch.getCohortName())
            .setMessageId(batch.getMessageId())
            .setOperation(Operation.valueOf(batch.getOperation()))
            .setSyncType(SyncType.valueOf(batch.getSyncType()))
            .setComputedAt(Instant.ofEpochMilli(batch.getComputedAt()))
            .setMembers(opened.getMembers())
            .setReportedAt(Instant.ofEpochMilli(now));
    }

    private static String batchKey(final BatchInfo batch) {
        return segmentKey(batch) + "|" + batch.getMessageId();
    }

    KeyValueStore<String, MembershipState> members() {
        return members;
    }
}
