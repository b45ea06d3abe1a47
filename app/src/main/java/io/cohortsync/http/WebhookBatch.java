package io.cohortsync.http;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.SyncType;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One Amplitude webhook call, validated: what becomes one or more {@link CohortSyncRequest} records.
 *
 * @param computedAtMs Amplitude's computed_time, in milliseconds
 */
record WebhookBatch(String accountId, String cohortId, String cohortName, Operation operation, long computedAtMs,
                    String messageId, SyncType syncType, List<Member> members) {

    /** The Confluent header, the record's own fields and framing; the ids are counted twice, to be safe. */
    private static final int RECORD_OVERHEAD_BYTES = 1_024;
    /** A string's length prefix (a varint of up to 5 bytes) and a union branch. */
    private static final int STRING_OVERHEAD_BYTES = 6;
    private static final int MEMBER_OVERHEAD_BYTES = 16;

    /** The record key of every part: one cohort's batches stay in one partition, in order. */
    String key() {
        return accountId + "|" + cohortId;
    }

    /**
     * The records to produce: one, or consecutive slices of at most {@code maxMembersPerRecord} members and about
     * {@code maxRecordBytes} encoded, whose message ids are {@code <message_id>|part-<n>} (n from 0). The same call
     * always splits the same way, so a retried webhook carries the same ids and every part is recognised as a
     * duplicate.
     */
    List<CohortSyncRequest> records(final int maxMembersPerRecord, final long maxRecordBytes) {
        final long budget = maxRecordBytes - RECORD_OVERHEAD_BYTES - 2 * (utf8Bytes(cohortId) + utf8Bytes(cohortName)
            + utf8Bytes(messageId) + utf8Bytes(accountId));
        final List<List<Member>> slices = new ArrayList<>();
        long sliceBytes = 0;
        for (final Member member : members) {
            final long bytes = encodedBytes(member);
            final List<Member> last = slices.isEmpty() ? null : slices.get(slices.size() - 1);
            if (last == null || last.size() == maxMembersPerRecord || sliceBytes + bytes > budget) {
                slices.add(new ArrayList<>());
                sliceBytes = 0;
            }
            slices.get(slices.size() - 1).add(member);
            sliceBytes += bytes;
        }
        if (slices.isEmpty()) {
            return List.of(request(messageId, List.of()));
        }
        final List<CohortSyncRequest> records = new ArrayList<>(slices.size());
        for (int part = 0; part < slices.size(); part++) {
            records.add(request(slices.size() == 1 ? messageId : partId(messageId, part), slices.get(part)));
        }
        return records;
    }

    /** A little over Avro's encoding of the member: each string's UTF-8 bytes plus room for its framing. */
    private static long encodedBytes(final Member member) {
        long bytes = MEMBER_OVERHEAD_BYTES + utf8Bytes(member.getUserId()) + utf8Bytes(member.getDeviceId())
            + utf8Bytes(member.getAmplitudeId());
        for (final Map.Entry<String, String> property : member.getUserProperties().entrySet()) {
            bytes += STRING_OVERHEAD_BYTES * 2 + utf8Bytes(property.getKey()) + utf8Bytes(property.getValue());
        }
        return bytes;
    }

    private static long utf8Bytes(final String text) {
        if (text == null) {
            return 0;
        }
        long bytes = STRING_OVERHEAD_BYTES;
        for (int i = 0; i < text.length(); i++) {
            final char c = text.charAt(i);
            bytes += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
        }
        return bytes;
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
