package io.cohortsync.http;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.SyncType;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One Amplitude webhook call, validated: what becomes one or more {@link CohortSyncRequest} records.
 *
 * @param computedAtMs Amplitude's computed_time, in milliseconds
 */
record WebhookBatch(String accountId, String cohortId, String cohortName, Operation operation, long computedAtMs,
                    String messageId, SyncType syncType, List<Member> members) {

    /** The record key of every part: one cohort's batches stay in one partition, in order. */
    String key() {
        return accountId + "|" + cohortId;
    }

    /**
     * The records to produce: one, or, above {@code maxMembersPerRecord}, consecutive slices whose message ids are
     * {@code <message_id>|part-<n>} (n from 0). The same call always splits the same way, so a retried webhook
     * carries the same ids and every part is recognised as a duplicate.
     */
    List<CohortSyncRequest> records(final int maxMembersPerRecord) {
        final int parts = Math.max(1, (members.size() + maxMembersPerRecord - 1) / maxMembersPerRecord);
        final List<CohortSyncRequest> records = new ArrayList<>(parts);
        for (int part = 0; part < parts; part++) {
            final int from = part * maxMembersPerRecord;
            final int to = Math.min(members.size(), from + maxMembersPerRecord);
            records.add(request(parts == 1 ? messageId : partId(messageId, part), members.subList(from, to)));
        }
        return records;
    }

    static String partId(final String messageId, final int part) {
        return messageId + "|part-" + part;
    }

    private CohortSyncRequest request(final String id, final List<Member> slice) {
        return CohortSyncRequest.newBuilder()
            .setAccountId(accountId)
            .setCohortId(cohortId)
            .setCohortName(cohortName)
            .setMessageId(id)
            .setComputedAt(Instant.ofEpochMilli(computedAtMs))
            .setSyncType(syncType)
            .setOperation(operation)
            .setMembers(new ArrayList<>(slice))
            .build();
    }
}
