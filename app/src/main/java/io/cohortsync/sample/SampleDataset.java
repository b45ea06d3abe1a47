package io.cohortsync.sample;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncType;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * A realistic, repeatable sample for one CREATE_UNMATCHED account: existing profiles, a few cohorts of users whose
 * Amplitude identities differ in case from the platform's, new identities, anonymous devices, the seed's three
 * scenarios, a REMOVE batch and a retried (duplicate) batch.
 */
public final class SampleDataset {

    public static final String SCENARIO_COHORT_ID = "1638361188";

    private final String accountId;
    private final List<Profile> profiles = new ArrayList<>();
    private final List<CohortSyncRequest> requests = new ArrayList<>();

    private SampleDataset(final String accountId) {
        this.accountId = accountId;
    }

    public static SampleDataset generate(final String accountId, final int users, final int cohorts,
                                         final int batchSize, final long seed) {
        final SampleDataset data = new SampleDataset(accountId);
        data.build(users, cohorts, batchSize, new Random(seed));
        return data;
    }

    public List<Profile> profiles() {
        return profiles;
    }

    public List<CohortSyncRequest> requests() {
        return requests;
    }

    private void build(final int users, final int cohorts, final int batchSize, final Random random) {
        seedScenarios();
        final long start = Instant.parse("2026-11-01T08:00:00Z").toEpochMilli();
        for (int c = 0; c < cohorts; c++) {
            final String cohortId = String.valueOf(1_700_000_000 + c);
            final String name = COHORT_NAMES[c % COHORT_NAMES.length];
            final List<Member> members = new ArrayList<>();
            for (int u = c; u < users; u += 1 + random.nextInt(Math.max(1, cohorts))) {
                members.add(member(u, random));
            }
            addBatches(cohortId, name, members, batchSize, start + c * 60_000L, Operation.ADD);
            final List<Member> leaving = members.subList(0, Math.min(members.size(), Math.max(1, members.size() / 20)));
            addBatches(cohortId, name, leaving, batchSize, start + 3_600_000L + c * 60_000L, Operation.REMOVE);
        }
        requests.add(requests.get(requests.size() - 1));
    }

    /** Users 0..n: 70% have a profile already (Amplitude spells the identity in another case), 20% are new, 10% anonymous. */
    private Member member(final int user, final Random random) {
        final int kind = user % 10;
        final String deviceId = String.format(Locale.ROOT, "%08X-%04X", user * 2_654_435_761L & 0xFFFFFFFFL, user & 0xFFFF);
        if (kind < 7) {
            ensureProfile(user, deviceId);
            return identified("User" + user + "@Example.com", deviceId, random);
        }
        if (kind < 9) {
            return identified("new-user-" + user + "@example.com", deviceId, random);
        }
        return Member.newBuilder().setDeviceId(deviceId).build();
    }

    private static Member identified(final String identity, final String deviceId, final Random random) {
        final Map<String, String> properties = new HashMap<>();
        properties.put("CleverTap_Identity", identity);
        properties.put("plan", PLANS[random.nextInt(PLANS.length)]);
        return Member.newBuilder().setUserId("amp-" + identity.hashCode()).setDeviceId(deviceId)
            .setUserProperties(properties).build();
    }

    private final java.util.Set<Integer> profiled = new java.util.HashSet<>();

    private void ensureProfile(final int user, final String deviceId) {
        if (profiled.add(user)) {
            profiles.add(profile("ct-" + user, "user" + user + "@example.com", deviceId));
        }
    }

    private void seedScenarios() {
        profiles.add(profile("ct-seed-1", "clevertap1", "seed-device-1"));
        profiles.add(profile("ct-seed-2", "CleverTap2", "seed-device-2"));
        final long computedAt = Instant.parse("2026-11-01T07:00:00Z").toEpochMilli();
        requests.add(request(SCENARIO_COHORT_ID, "Cart Drop off", "seed-scenarios::enter::0", computedAt,
            Operation.ADD, List.of(
                Member.newBuilder().setUserProperties(Map.of("CleverTap_Identity", "Clevertap1")).build(),
                Member.newBuilder().setUserProperties(Map.of("CleverTap_Identity", "CleverTap3")).build(),
                Member.newBuilder().setDeviceId("543C-3455-4555-3SRD").build())));
    }

    private void addBatches(final String cohortId, final String name, final List<Member> members, final int batchSize,
                            final long computedAt, final Operation operation) {
        final String direction = operation == Operation.ADD ? "enter" : "exit";
        for (int from = 0, n = 0; from < members.size(); from += batchSize, n++) {
            final List<Member> batch = members.subList(from, Math.min(members.size(), from + batchSize));
            requests.add(request(cohortId, name, "sample-" + cohortId + "::" + direction + "::" + n, computedAt,
                operation, new ArrayList<>(batch)));
        }
    }

    private CohortSyncRequest request(final String cohortId, final String name, final String messageId,
                                      final long computedAt, final Operation operation, final List<Member> members) {
        return CohortSyncRequest.newBuilder()
            .setAccountId(accountId)
            .setCohortId(cohortId)
            .setCohortName(name)
            .setMessageId(messageId)
            .setComputedAt(Instant.ofEpochMilli(computedAt))
            .setSyncType(SyncType.HOURLY)
            .setOperation(operation)
            .setMembers(members)
            .build();
    }

    private Profile profile(final String objectId, final String identity, final String deviceId) {
        return Profile.newBuilder()
            .setAccountId(accountId)
            .setObjectId(objectId)
            .setIdentity(identity)
            .setEmail(identity.contains("@") ? identity : null)
            .setDeviceIds(List.of(deviceId))
            .setCreatedAt(Instant.parse("2026-01-01T00:00:00Z"))
            .setUpdatedAt(Instant.parse("2026-01-01T00:00:00Z"))
            .setCreatedBy("platform")
            .build();
    }

    private static final String[] COHORT_NAMES = {"Bangalore Users", "Power Users", "Churn Risk", "Weekend Shoppers",
        "Trial Ending"};
    private static final String[] PLANS = {"free", "pro", "enterprise"};
}
