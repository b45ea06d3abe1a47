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
        if (update.getAction() == IndexAction.PUT) {
            // No read first: the profile table sends only keys a profile gained or changed, and not the one
            // resolution wrote for a profile it created (IndexedKeyHeader), so an identical put is rare.
            index.put(update.getLookupKey(), update.getEntry());
            return;
        }
        // Remove only while the key still points at this profile: another profile may have claimed it since.
        final IndexEntry current = index.get(update.getLookupKey());
        if (current != null && current.getObjectId().equals(update.getEntry().getObjectId())) {
            index.delete(update.getLookupKey());
        }
    }
}
