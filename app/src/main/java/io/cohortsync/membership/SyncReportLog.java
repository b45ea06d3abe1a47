package io.cohortsync.membership;

import io.cohortsync.avro.SyncReport;
import io.cohortsync.internal.SegmentStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One INFO line per finished batch, with the segment's statistics: what a newcomer watches in the log. */
final class SyncReportLog {

    private static final Logger LOG = LoggerFactory.getLogger("io.cohortsync.SyncReports");

    private SyncReportLog() {
    }

    static void log(final SyncReport report, final SegmentStats stats) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        if (report.getDuplicate()) {
            LOG.info("Batch {} of {}/{} was a duplicate: nothing changed", report.getMessageId(),
                report.getAccountId(), report.getCohortId());
            return;
        }
        LOG.info("Batch {} {} of {}/{} '{}': {} members -> matched {}, created {}, unmatched {}, rejected {}; "
                + "added {}, removed {}, unchanged {}, stale {}. Segment when it closed: {} members ({} added, "
                + "{} removed in all, other batches' members applied meanwhile included)",
            report.getMessageId(), report.getOperation(), report.getAccountId(), report.getCohortId(),
            stats.getName(), report.getMembers(), report.getMatched(), report.getCreated(), report.getUnmatched(),
            report.getRejected(), report.getAdded(), report.getRemoved(), report.getUnchanged(), report.getStale(),
            stats.getMemberCount(), stats.getTotalAdded(), stats.getTotalRemoved());
    }
}
