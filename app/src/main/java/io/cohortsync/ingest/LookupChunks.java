package io.cohortsync.ingest;

import io.cohortsync.internal.MemberLookup;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One lookup group's members of a batch, cut into chunks whose encoded size stays under a budget, so that no chunk
 * (nor the resolved chunk it becomes) outgrows what the internal topics accept, however long the members' values.
 */
final class LookupChunks {

    /** Avro's framing of one member: union branches, length prefixes, the create flag. */
    private static final int MEMBER_OVERHEAD_BYTES = 32;

    private final long budgetBytes;
    private final List<List<MemberLookup>> chunks = new ArrayList<>();
    private long currentBytes;

    LookupChunks(final long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    void add(final MemberLookup lookup) {
        final long bytes = MEMBER_OVERHEAD_BYTES + upperBoundBytes(lookup.getLookupKey())
            + upperBoundBytes(lookup.getIdentity()) + upperBoundBytes(lookup.getDeviceId())
            + upperBoundBytes(lookup.getEmail()) + upperBoundBytes(lookup.getPhone());
        if (chunks.isEmpty() || currentBytes + bytes > budgetBytes) {
            chunks.add(new ArrayList<>());
            currentBytes = 0;
        }
        chunks.get(chunks.size() - 1).add(lookup);
        currentBytes += bytes;
    }

    void forEach(final Consumer<List<MemberLookup>> chunk) {
        chunks.forEach(chunk);
    }

    /** UTF-8 takes at most three bytes per Java char (a surrogate pair, two chars, takes four). */
    static long upperBoundBytes(final CharSequence text) {
        return text == null ? 0 : 3L * text.length();
    }
}
