package io.cohortsync.sample;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncType;
import io.cohortsync.config.IdentifierField;
import io.cohortsync.config.ImportPolicy;
import io.cohortsync.config.ImportSettings;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * A realistic, repeatable sample for one account: existing profiles, a few cohorts of users, a REMOVE batch per
 * cohort and a retried (duplicate) batch. For a CREATE_UNMATCHED account, users whose Amplitude identities differ in
 * case from the platform's, new identities, anonymous devices and the seed's three scenarios; for a MATCH_ONLY
 * account, users found by each of its identifiers in turn, and some no profile has (MATCH_ONLY creates none).
 */
public final class SampleDataset {

    public static final String SCENARIO_COHORT_ID = "1638361188";

    private final String accountId;
    private final ImportSettings settings;
    private final List<Profile> profiles = new ArrayList<>();
    private final List<CohortSyncRequest> requests = new ArrayList<>();

    private SampleDataset(final String accountId, final ImportSettings settings) {
        this.accountId = accountId;
        this.settings = settings;
    }

    /** For an account with the default import settings (CREATE_UNMATCHED, as {@code demo}). */
    public static SampleDataset generate(final String accountId, final int users, final int cohorts,
                                         final int batchSize, final long seed) {
        return generate(accountId, ImportSettings.defaults(), users, cohorts, batchSize, seed);
    }

    /** For an account with these import settings: its members are those its policy and identifiers can match. */
    public static SampleDataset generate(final String accountId, final ImportSettings settings, final int users,
                                         final int cohorts, final int batchSize, final long seed) {
        final SampleDataset data = new SampleDataset(accountId, settings);
        data.build(users, cohorts, batchSize, new Random(seed));
        return data;
    }

    /** Whether the seed's three scenarios are in it: they are CREATE_UNMATCHED's (they create profiles). */
    public boolean hasSeedScenarios() {
        return settings.policy() == ImportPolicy.CREATE_UNMATCHED;
    }

    public List<Profile> profiles() {
        return profiles;
    }

    public List<CohortSyncRequest> requests() {
        return requests;
    }

    private void build(final int users, final int cohorts, final int batchSize, final Random random) {
        if (hasSeedScenarios()) {
            seedScenarios();
        }
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

    private Member member(final int user, final Random random) {
        return hasSeedScenarios() ? createUnmatchedMember(user, random) : matchOnlyMember(user, random);
    }

    /**
     * Users 0..n: 70% have a profile already (Amplitude spells the identity in another case), 20% are new, 10%
     * anonymous.
     */
    private Member createUnmatchedMember(final int user, final Random random) {
        final int kind = user % 10;
        final String deviceId = deviceId(user);
        if (kind < 7) {
            ensureProfile(user, deviceId);
            return identified("User" + user + "@Example.com", deviceId, random);
        }
        if (kind < 9) {
            return identified("new-user-" + user + "@example.com", deviceId, random);
        }
        return Member.newBuilder().setDeviceId(deviceId).build();
    }

    private static String deviceId(final int user) {
        return String.format(Locale.ROOT, "%08X-%04X", user * 2_654_435_761L & 0xFFFFFFFFL, user & 0xFFFF);
    }

    private static Member identified(final String identity, final String deviceId, final Random random) {
        final Map<String, String> properties = new HashMap<>();
        properties.put("CleverTap_Identity", identity);
        properties.put("plan", PLANS[random.nextInt(PLANS.length)]);
        return Member.newBuilder().setUserId("amp-" + identity.hashCode()).setDeviceId(deviceId)
            .setUserProperties(properties).build();
    }

    /**
     * Users 0..n: 90% have a profile, found by the account's identifiers in turn; 10% carry the first identifier with
     * a value no profile has. Each member carries only the one identifier, so it is the one matched on.
     */
    private Member matchOnlyMember(final int user, final Random random) {
        final List<IdentifierField> identifiers = settings.identifiers();
        final boolean unknown = user % 10 == 9;
        final IdentifierField field = unknown ? identifiers.get(0) : identifiers.get(user % identifiers.size());
        final String value = unknown ? "unknown-" + user : matchOnlyValue(field, user);
        if (!unknown && profiled.add(user)) {
            profiles.add(matchOnlyProfile(user, field, value));
        }
        return carrying(field, value, PLANS[random.nextInt(PLANS.length)]);
    }

    /** A member with {@code value} in {@code field} and no other identifier. */
    private static Member carrying(final IdentifierField field, final String value, final String plan) {
        final Map<String, String> properties = new HashMap<>();
        properties.put("plan", plan);
        final Member.Builder member = Member.newBuilder();
        switch (field.kind()) {
            case USER_ID -> member.setUserId(value);
            case DEVICE_ID -> member.setDeviceId(value);
            case USER_PROPERTY, ALIAS -> properties.put(field.name(), value);
            case AMPLITUDE_ID -> throw new IllegalStateException("amplitude_id is not a MATCH_ONLY identifier");
        }
        return member.setUserProperties(properties).build();
    }

    private static String matchOnlyValue(final IdentifierField field, final int user) {
        return switch (field.kind()) {
            case DEVICE_ID -> deviceId(user);
            case ALIAS -> "alias-" + user;
            default -> "user-" + user;
        };
    }

    /** The profile a MATCH_ONLY member finds by {@code field}: an identified one, an alias, or an anonymous device. */
    private Profile matchOnlyProfile(final int user, final IdentifierField field, final String value) {
        final String objectId = "bz-" + user;
        return switch (field.kind()) {
            case USER_ID, USER_PROPERTY -> profile(objectId, value, deviceId(user));
            // A device id finds only a profile without an identity; an alias, any profile that has it.
            case DEVICE_ID -> anonymousProfile(objectId, value, Map.of());
            case ALIAS -> anonymousProfile(objectId, deviceId(user), Map.of(field.name(), value));
            case AMPLITUDE_ID -> throw new IllegalStateException("amplitude_id is not a MATCH_ONLY identifier");
        };
    }

    private Profile anonymousProfile(final String objectId, final String deviceId, final Map<String, String> aliases) {
        return profileBuilder(objectId, deviceId).setAliases(aliases).build();
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
        return profileBuilder(objectId, deviceId)
            .setIdentity(identity)
            .setEmail(identity.contains("@") ? identity : null)
            .build();
    }

    private Profile.Builder profileBuilder(final String objectId, final String deviceId) {
        return Profile.newBuilder()
            .setAccountId(accountId)
            .setObjectId(objectId)
            .setDeviceIds(List.of(deviceId))
            .setCreatedAt(Instant.parse("2026-01-01T00:00:00Z"))
            .setUpdatedAt(Instant.parse("2026-01-01T00:00:00Z"))
            .setCreatedBy("platform");
    }

    private static final String[] COHORT_NAMES = {"Bangalore Users", "Power Users", "Churn Risk", "Weekend Shoppers",
        "Trial Ending"};
    private static final String[] PLANS = {"free", "pro", "enterprise"};
}
