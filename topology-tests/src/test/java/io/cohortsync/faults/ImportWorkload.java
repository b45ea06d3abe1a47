package io.cohortsync.faults;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncType;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A deterministic import workload with a known right answer, for the fault suites. One CREATE_UNMATCHED account;
 * {@code addBatches} ADD batches round-robin over 8 cohorts, whose members overlap across cohorts (so new identities
 * race through different request partitions), 70% of them existing profiles spelled in varying case, 30% new
 * identities, a tenth of those known only by a device id; then {@code removeBatches} REMOVE batches, each taking back
 * one earlier ADD batch; then {@code duplicateBatches} ADD batches re-sent with their original messageId.
 *
 * <p>The right answer: one "Added" Partner Sync event per (member, cohort) added, one "Removed" per member taken
 * back, one profile per distinct new identity or device, and nothing for the duplicates.
 */
final class ImportWorkload {

    static final String ACCOUNT = "ct";
    static final int COHORTS = 8;
    static final int BATCH_SIZE = 1_000;
    static final String CREATED_BY = "partner-sync:Amplitude";
    static final String ACCOUNTS_YAML = """
        accounts:
          ct:
            import:
              policy: CREATE_UNMATCHED
            webhook:
              passcodes: ["%s"]
        """.formatted(FaultSecrets.PASSCODE);

    private static final long BASE = Instant.parse("2026-11-01T00:00:00Z").toEpochMilli();
    private static final String[] EXISTING_SPELLINGS = {"User", "user", "USER"};
    private static final String[] NEW_SPELLINGS = {"New", "new", "NEW"};

    private final int addBatches;
    private final int removeBatches;
    private final int duplicateBatches;
    private final int identitySpace;
    private final int existing;

    ImportWorkload(final int addBatches, final int removeBatches, final int duplicateBatches) {
        if (removeBatches > addBatches || duplicateBatches > addBatches) {
            throw new IllegalArgumentException("remove and duplicate batches take back earlier ADD batches");
        }
        this.addBatches = addBatches;
        this.removeBatches = removeBatches;
        this.duplicateBatches = duplicateBatches;
        // Each cohort's members are distinct; across cohorts they overlap, about three cohorts per identity.
        this.identitySpace = Math.max(BATCH_SIZE * ((addBatches + COHORTS - 1) / COHORTS) * 2, 10 * BATCH_SIZE);
        this.existing = identitySpace * 7 / 10;
    }

    /** The workload for about {@code members} members in total, a tenth of them removed again. */
    static ImportWorkload ofMembers(final int members) {
        final int batches = Math.max(2, members / BATCH_SIZE);
        final int removes = Math.max(1, batches / 10);
        return new ImportWorkload(batches - removes, removes, Math.max(1, batches / 40));
    }

    int members() {
        return (addBatches + removeBatches + duplicateBatches) * BATCH_SIZE;
    }

    int batches() {
        return addBatches + removeBatches + duplicateBatches;
    }

    /** The profiles the platform already has, keyed like topic profiles. */
    Map<String, Profile> existingProfiles() {
        final Map<String, Profile> profiles = new LinkedHashMap<>();
        for (int i = 0; i < existing; i++) {
            final String objectId = existingObjectId(i);
            profiles.put(ACCOUNT + "|" + objectId, Profile.newBuilder().setAccountId(ACCOUNT).setObjectId(objectId)
                .setIdentity(String.format(Locale.ROOT, "User-%07d", i)).setCreatedAt(Instant.ofEpochMilli(BASE))
                .setUpdatedAt(Instant.ofEpochMilli(BASE)).setCreatedBy("platform").build());
        }
        return profiles;
    }

    /** Every request in the order to produce it; each entry is (key, request). */
    List<Map.Entry<String, CohortSyncRequest>> requests() {
        final List<Map.Entry<String, CohortSyncRequest>> requests = new ArrayList<>(batches());
        for (int b = 0; b < addBatches; b++) {
            requests.add(request(b, Operation.ADD));
        }
        for (int r = 0; r < removeBatches; r++) {
            requests.add(request(r, Operation.REMOVE));
        }
        for (int d = 0; d < duplicateBatches; d++) {
            requests.add(request(d * addBatches / duplicateBatches, Operation.ADD));
        }
        return requests;
    }

    /**
     * The expected Partner Sync events as "member|cohort|Action" strings, each once; "member" is an existing
     * profile's objectId, or {@code new:<folded identity>} / {@code device:<id>} for a profile the import creates.
     */
    List<String> expectedEvents() {
        final List<String> events = new ArrayList<>();
        for (int b = 0; b < addBatches; b++) {
            for (final int identity : identities(b)) {
                events.add(memberRef(identity) + "|" + cohortOf(b) + "|Added");
            }
        }
        for (int r = 0; r < removeBatches; r++) {
            for (final int identity : identities(r)) {
                events.add(memberRef(identity) + "|" + cohortOf(r) + "|Removed");
            }
        }
        return events;
    }

    /** The profiles the import must create, exactly once each, as {@code new:...} / {@code device:...}. */
    Set<String> expectedCreated() {
        final Set<String> created = new TreeSet<>();
        for (int b = 0; b < addBatches; b++) {
            for (final int identity : identities(b)) {
                if (identity >= existing) {
                    created.add(memberRef(identity));
                }
            }
        }
        return created;
    }

    /** How a created profile is referred to in {@link #expectedEvents()}. */
    static String createdRef(final Profile profile) {
        return profile.getIdentity() != null ? "new:" + profile.getIdentity().toLowerCase(Locale.ROOT)
            : "device:" + profile.getObjectId();
    }

    /** The messageIds of the non-duplicate batches. */
    Set<String> messageIds() {
        final Set<String> ids = new TreeSet<>();
        for (int b = 0; b < addBatches; b++) {
            ids.add(messageId(b, Operation.ADD));
        }
        for (int r = 0; r < removeBatches; r++) {
            ids.add(messageId(r, Operation.REMOVE));
        }
        return ids;
    }

    private Map.Entry<String, CohortSyncRequest> request(final int batch, final Operation operation) {
        final String cohort = cohortOf(batch);
        final List<Member> members = new ArrayList<>(BATCH_SIZE);
        for (final int identity : identities(batch)) {
            members.add(member(identity, batch));
        }
        final long computedAt = operation == Operation.ADD ? BASE + batch * 1_000L : BASE + 10_000_000L + batch;
        return Map.entry(ACCOUNT + "|" + cohort, CohortSyncRequest.newBuilder()
            .setAccountId(ACCOUNT).setCohortId(cohort).setCohortName("Cohort " + cohort)
            .setMessageId(messageId(batch, operation)).setComputedAt(Instant.ofEpochMilli(computedAt))
            .setSyncType(SyncType.REAL_TIME).setOperation(operation).setMembers(members).build());
    }

    private static String messageId(final int batch, final Operation operation) {
        return (operation == Operation.ADD ? "add-" : "remove-") + batch;
    }

    private static String cohortOf(final int batch) {
        return "c" + batch % COHORTS;
    }

    /** Batch b is the k-th ADD batch of its cohort: a window of the identity space, shifted per cohort. */
    private int[] identities(final int batch) {
        final int cohort = batch % COHORTS;
        final int k = batch / COHORTS;
        final int start = cohort * (identitySpace / COHORTS) + k * BATCH_SIZE;
        final int[] identities = new int[BATCH_SIZE];
        for (int j = 0; j < BATCH_SIZE; j++) {
            identities[j] = (start + j) % identitySpace;
        }
        return identities;
    }

    private Member member(final int identity, final int batch) {
        if (isDeviceOnly(identity)) {
            return Member.newBuilder().setDeviceId(deviceId(identity)).build();
        }
        // The same person is spelled differently from batch to batch; identities match case-insensitively.
        final String[] spellings = identity < existing ? EXISTING_SPELLINGS : NEW_SPELLINGS;
        final String prefix = spellings[(identity + batch) % spellings.length];
        final Map<String, String> properties = new HashMap<>();
        properties.put("CleverTap_Identity", String.format(Locale.ROOT, "%s-%07d", prefix, identity));
        properties.put("plan", identity % 3 == 0 ? "pro" : "free");
        return Member.newBuilder().setUserId("amp-" + identity).setUserProperties(properties).build();
    }

    private String memberRef(final int identity) {
        if (identity < existing) {
            return existingObjectId(identity);
        }
        return isDeviceOnly(identity) ? "device:" + deviceId(identity)
            : String.format(Locale.ROOT, "new:new-%07d", identity);
    }

    private boolean isDeviceOnly(final int identity) {
        return identity >= existing && identity % 10 == 0;
    }

    private static String deviceId(final int identity) {
        return String.format(Locale.ROOT, "DEV-%07d-A1B2", identity);
    }

    private static String existingObjectId(final int identity) {
        return String.format(Locale.ROOT, "p%07d", identity);
    }
}
