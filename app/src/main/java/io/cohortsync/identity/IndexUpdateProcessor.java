package io.cohortsync.identity;

import io.cohortsync.internal.IndexAction;
import io.cohortsync.internal.IndexUpdate;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/** Applies profile-derived updates to this partition's slice of the identity index. */
final class IndexUpdateProcessor implements Processor<String, IndexUpdate, Void, Void> {

    private IdentityIndex index;

    @Override
    public void init(final ProcessorContext<Void, Void> context) {
        this.index = new IdentityIndex(context.getStateStore(IdentityTopology.INDEX_STORE));
    }

    @Override
    public void process(final Record<String, IndexUpdate> record) {
        final IndexUpdate update = record.value();
        if (update.getAction() == IndexAction.PUT) {
            index.claim(update.getLookupKey(), update.getEntry());
        } else {
            index.release(update.getLookupKey(), update.getEntry().getObjectId());
        }
    }
}
