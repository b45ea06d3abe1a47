package io.cohortsync.membership;

import io.cohortsync.avro.Operation;
import io.cohortsync.internal.BatchInfo;
import io.cohortsync.internal.BatchProgress;
import io.cohortsync.internal.MembershipState;
import io.cohortsync.internal.Resolution;
import io.cohortsync.internal.ResolvedChunk;
import io.cohortsync.internal.ResolvedMember;
import io.cohortsync.internal.SegmentStats;
import io.cohortsync.topology.SlicedSweep;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

import java.time.Duration;

/** Applies a chunk of resolved members to its segment: one Partner Sync event per real change. */
final class ResolvedChunkProcessor implements Processor<String, ResolvedChunk, String, Object> {

    private final Duration markerRetention;
    private ProcessorContext<String, Object> context;
    private SegmentLedger ledger;
    private SlicedSweep<MembershipState> markerSweep;

    ResolvedChunkProcessor(final Duration markerRetention) {
        this.markerRetention = markerRetention;
    }

    @Override
    public void init(final ProcessorContext<String, Object> context) {
        this.context = context;
        this.ledger = new SegmentLedger(context);
        this.markerSweep = new SlicedSweep<>(ledger.members());
        context.schedule(SlicedSweep.INTERVAL, PunctuationType.WALL_CLOCK_TIME, this::forgetOldMarkers);
    }

    @Override
    public void process(final Record<String, ResolvedChunk> record) {
        final BatchInfo batch = record.value().getBatch();
        final SegmentStats stats = ledger.segment(batch);
        SegmentLedger.rename(stats, batch);
        final BatchProgress progress = ledger.progress(batch);
        for (final ResolvedMember member : record.value().getMembers()) {
            count(progress, member.getResolution());
            if (member.getResolution() != Resolution.UNMATCHED) {
                applyChange(record, batch, stats, progress, member);
            } else if (member.getObjectId() != null && Operation.REMOVE.name().equals(batch.getOperation())) {
                ledger.markNeverAdded(batch, member.getObjectId());
            }
        }
        progress.setResolved(progress.getResolved() + record.value().getMembers().size());
        ledger.saveSegment(stats);
        ledger.saveOrComplete(batch, progress, record.timestamp()).ifPresent(report -> {
            SyncReportLog.log(report, stats);
            context.forward(record.withKey(SegmentLedger.segmentKey(batch)).withValue(report));
        });
    }

    private void applyChange(final Record<String, ResolvedChunk> record, final BatchInfo batch,
                             final SegmentStats stats, final BatchProgress progress, final ResolvedMember member) {
        switch (ledger.apply(batch, member.getObjectId(), member.getIdentity())) {
            case ADDED -> {
                progress.setAdded(progress.getAdded() + 1);
                stats.setMemberCount(stats.getMemberCount() + 1);
                stats.setTotalAdded(stats.getTotalAdded() + 1);
                emit(record, batch, stats, member, PartnerSyncEvents.ADDED);
            }
            case REMOVED -> {
                progress.setRemoved(progress.getRemoved() + 1);
                stats.setMemberCount(stats.getMemberCount() - 1);
                stats.setTotalRemoved(stats.getTotalRemoved() + 1);
                emit(record, batch, stats, member, PartnerSyncEvents.REMOVED);
            }
            case UNCHANGED -> progress.setUnchanged(progress.getUnchanged() + 1);
            case STALE -> progress.setStale(progress.getStale() + 1);
            default -> throw new IllegalStateException("unknown outcome");
        }
    }

    private void emit(final Record<String, ResolvedChunk> record, final BatchInfo batch, final SegmentStats stats,
                      final ResolvedMember member, final String action) {
        context.forward(record
            .withKey(batch.getAccountId() + "|" + member.getObjectId())
            .withValue(PartnerSyncEvents.of(batch, stats.getName(), member.getObjectId(), member.getIdentity(),
                action)));
    }

    private static void count(final BatchProgress progress, final Resolution resolution) {
        switch (resolution) {
            case MATCHED -> progress.setMatched(progress.getMatched() + 1);
            case CREATED -> progress.setCreated(progress.getCreated() + 1);
            case UNMATCHED -> progress.setUnmatched(progress.getUnmatched() + 1);
            default -> throw new IllegalStateException("unknown resolution " + resolution);
        }
    }

    private void forgetOldMarkers(final long now) {
        final long cutoff = now - markerRetention.toMillis();
        markerSweep.sweep(state -> !state.getMember() && state.getComputedAt() < cutoff);
    }
}
