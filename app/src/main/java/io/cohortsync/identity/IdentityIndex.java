package io.cohortsync.identity;

import io.cohortsync.internal.IndexEntry;
import io.cohortsync.internal.IndexOwners;
import org.apache.kafka.streams.state.KeyValueStore;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One partition's slice of the identity index: for every lookup key, the profiles that have it.
 *
 * <p>A key keeps all its owners, not just the last: two profiles may share a device id or differ only in the case
 * of their identity, and when one of them loses the key the other must still be found under it. The last to claim
 * the key is the one matched.
 *
 * <p>A key also counts the objectIds cohort-sync generated for it that were released: when the profile it created
 * for a key loses that key (the platform changed or removed its identity, or deleted it), the next profile created
 * for the key gets a new objectId, so it is never written over the one that still exists under the old id.
 */
final class IdentityIndex {

    /**
     * Owners kept per key, the latest claims: enough for real duplicates, and a value that stays small when thousands
     * of profiles share a placeholder device id. Beyond it, the oldest claim is forgotten.
     */
    static final int MAX_OWNERS = 16;

    private final KeyValueStore<String, IndexOwners> store;

    IdentityIndex(final KeyValueStore<String, IndexOwners> store) {
        this.store = store;
    }

    /** What the index holds for {@code lookupKey}: its owners (maybe none) and released ids. */
    Slot slot(final String lookupKey) {
        return new Slot(lookupKey, store.get(lookupKey));
    }

    /** A profile (created or changed) has {@code lookupKey}: it becomes the key's match. */
    void claim(final String lookupKey, final IndexEntry owner) {
        if (IdentityRules.isObjectKey(lookupKey)) {
            // Only the profile with that objectId has the key: no other owner to keep, so no read (one per profile).
            store.put(lookupKey, new IndexOwners(List.of(owner), 0));
            return;
        }
        claim(slot(lookupKey), owner);
    }

    /** As {@link #claim(String, IndexEntry)}, for a slot just read. */
    void claim(final Slot slot, final IndexEntry owner) {
        if (slot.match().filter(owner::equals).isPresent()) {
            return;
        }
        final List<IndexEntry> owners = new ArrayList<>(slot.owners.size() + 1);
        slot.owners.stream().filter(other -> !other.getObjectId().equals(owner.getObjectId())).forEach(owners::add);
        owners.add(owner);
        if (owners.size() > MAX_OWNERS) {
            owners.remove(0);
        }
        store.put(slot.lookupKey, new IndexOwners(owners, slot.releasedIds));
    }

    /** The profile {@code objectId} no longer has {@code lookupKey}; the other owners keep it. */
    void release(final String lookupKey, final String objectId) {
        if (IdentityRules.isObjectKey(lookupKey)) {
            store.delete(lookupKey);
            return;
        }
        final Slot slot = slot(lookupKey);
        final List<IndexEntry> owners = new ArrayList<>(slot.owners);
        final boolean owned = owners.removeIf(owner -> owner.getObjectId().equals(objectId));
        // Counted even when not listed (pushed out by MAX_OWNERS, or never indexed): the id must not be made again.
        final boolean generated = IdentityRules.isGeneratedFor(objectId, lookupKey, slot.releasedIds);
        if (!owned && !generated) {
            return;
        }
        final int releasedIds = generated ? slot.releasedIds + 1 : slot.releasedIds;
        if (owners.isEmpty() && releasedIds == 0) {
            store.delete(lookupKey);
        } else {
            store.put(lookupKey, new IndexOwners(owners, releasedIds));
        }
    }

    /** A lookup key's index value as read; an absent key has no owners and no released ids. */
    static final class Slot {
        private final String lookupKey;
        private final List<IndexEntry> owners;
        private final int releasedIds;

        private Slot(final String lookupKey, final IndexOwners value) {
            this.lookupKey = lookupKey;
            this.owners = value == null ? List.of() : value.getOwners();
            this.releasedIds = value == null ? 0 : value.getReleasedIds();
        }

        /** The profile a member with this key is matched to: the last to claim it. */
        Optional<IndexEntry> match() {
            return owners.isEmpty() ? Optional.empty() : Optional.of(owners.get(owners.size() - 1));
        }

        /** The objectId a profile created for this key now gets: derived from the key, never one released. */
        String newObjectId() {
            return IdentityRules.newObjectId(lookupKey, releasedIds);
        }
    }
}
