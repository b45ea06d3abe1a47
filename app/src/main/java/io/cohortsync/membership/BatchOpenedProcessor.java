package io.cohortsync.membership;

import io.cohortsync.avro.SyncReport;
import io.cohortsync.internal.BatchInfo;
import io.cohortsync.internal.BatchOpened;
import io.cohortsync.internal.BatchProgress;
import io.cohortsync.internal.SegmentStats;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Records a batch's header in its segment: the sync time and type, a rename, and the member count its SyncReport
 * waits for. Chunks may arrive before or after their header; whichever completes the count emits the report.
 */
final class BatchOpenedProcessor implements Processor<String, BatchOpened, String, Object> {

    private ProcessorContext<String, Object> context;
    private SegmentLedger ledger;

    @Override
    public void init(final ProcessorContext<String, Object> context) {
        this.context = context;
        this.ledger = new SegmentLedger(context);
    }

    @Override
    public void process(final Record<String, BatchOpened> record) {
        final BatchOpened opened = record.value();
        final BatchInfo batch = opened.getBatch();
        if (opened.getDuplicate()) {
            final SyncReport report = SegmentLedger.duplicateReport(opened, record.timestamp());
            SyncReportLog.log(report, ledger.segment(batch));
            context.forward(record.withKey(SegmentLedger.segmentKey(batch)).withValue(report));
            return;
        }
        final SegmentStats stats = ledger.segment(batch);
        SegmentLedger.rename(stats, batch);
        SegmentLedger.recordSync(stats, batch);
        ledger.saveSegment(stats);
        final BatchProgress progress = ledger.progress(batch);
        progress.setOpened(opened);
        ledger.saveOrComplete(batch, progress, record.timestamp()).ifPresent(report -> {
            SyncReportLog.log(report, stats);
            context.forward(record.withKey(SegmentLedger.segmentKey(batch)).withValue(report));
        });
    }
}
