package io.cohortsync.identity;

import io.cohortsync.internal.IndexAction;
import io.cohortsync.internal.IndexEntry;
import io.cohortsync.internal.IndexUpdate;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/** Applies profile-derived updates to this partition's slice of the identity index. */
final class IndexUpdateProcessor implements Processor<String, IndexUpdate, Void, Void> {

    private KeyValueStore<String, IndexEntry> index;

    @Override
    public void init(final ProcessorContext<Void, Void> context) {
        this.index = context.getStateStore(IdentityTopology.INDEX_STORE);
    }

    @Override
    public void process(final Record<String, IndexUpdate> record) {
        final IndexUpdate update = record.value();
        final IndexEntry current = index.get(update.getLookupKey());
        if (update.getAction() == IndexAction.PUT) {
            // A profile cohort-sync created comes back through the profile table with the entry resolution already
            // wrote; skipping the identical put saves a changelog record per new profile.
            if (!update.getEntry().equals(current)) {
                index.put(update.getLookupKey(), update.getEntry());
            }
            return;
        }
        // Remove only while the key still points at this profile: another profile may have claimed it since.
        if (current != null && current.getObjectId().equals(update.getEntry().getObjectId())) {
            index.delete(update.getLookupKey());
        }
    }
}
