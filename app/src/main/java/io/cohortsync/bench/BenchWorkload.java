package io.cohortsync.bench;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncType;
import org.apache.kafka.common.serialization.Serializer;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The benchmark's data, fully deterministic: {@code members} distinct ADD members in batches of {@code batchSize},
 * round-robin over {@code cohorts} cohorts, a {@code 1 - newShare} share of them carrying the identity of an existing
 * profile (spelled in another case) and the rest a new identity. Every member occurs once, so each one is new to its
 * segment and yields exactly one "Added" Partner Sync event.
 *
 * <p>Batch {@code b} has {@code computedAt = base + b}, so an event's timestamp names its batch. The measured
 * workload uses {@link #BASE_COMPUTED_AT}; the JIT warm-up workload an earlier base, its own cohorts and its own new
 * identities (its existing members match the same pre-loaded profiles), so neither disturbs the other.
 * The requests are serialized once, up front: both measurements send the very same bytes.
 */
final class BenchWorkload {

    static final String ACCOUNT = "bench";
    static final long BASE_COMPUTED_AT = Instant.parse("2026-11-01T08:00:00Z").toEpochMilli();
    static final long WARM_UP_BASE_COMPUTED_AT = BASE_COMPUTED_AT - 100_000_000L;
    private static final long PROFILE_TIME = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
    private static final String[] PLANS = {"free", "pro", "enterprise"};

    /** One serialized CohortSyncRequest. */
    record Batch(int index, String key, byte[] value, int members) {
    }

    private final int members;
    private final int batchSize;
    private final int cohorts;
    private final long existing;
    private final String runId;
    private final String phase;
    private final long base;

    /** The measured workload. */
    BenchWorkload(final int members, final int batchSize, final double newShare, final int cohorts,
                  final String runId) {
        this(members, batchSize, newShare, cohorts, runId, "bench", BASE_COMPUTED_AT);
    }

    /** The JIT warm-up workload: {@code members} of its own, the same mix. */
    static BenchWorkload warmUp(final int members, final int batchSize, final double newShare, final int cohorts,
                                final String runId) {
        return new BenchWorkload(members, batchSize, newShare, cohorts, runId, "warmup", WARM_UP_BASE_COMPUTED_AT);
    }

    private BenchWorkload(final int members, final int batchSize, final double newShare, final int cohorts,
                          final String runId, final String phase, final long base) {
        this.phase = phase;
        this.base = base;
        this.members = members;
        this.batchSize = batchSize;
        this.cohorts = cohorts;
        this.existing = Math.round((1.0 - newShare) * members);
        this.runId = runId;
    }

    long base() {
        return base;
    }

    int members() {
        return members;
    }

    /** Members that carry the identity of a pre-loaded profile (= the number of pre-loaded profiles). */
    long existingMembers() {
        return existing;
    }

    int batchCount() {
        return (members + batchSize - 1) / batchSize;
    }

    /** The pre-loaded profiles, one per existing identity, handed to {@code sink} one by one (not kept). */
    void forEachProfile(final Consumer<Profile> sink) {
        for (long k = 0; k < existing; k++) {
            final String identity = "user" + k + "@example.com";
            sink.accept(Profile.newBuilder()
                .setAccountId(ACCOUNT)
                .setObjectId(objectId(k))
                .setIdentity(identity)
                .setEmail(identity)
                .setDeviceIds(List.of(deviceId(k + 7_000_000_000L)))
                .setCreatedAt(Instant.ofEpochMilli(PROFILE_TIME))
                .setUpdatedAt(Instant.ofEpochMilli(PROFILE_TIME))
                .setCreatedBy("platform")
                .build());
        }
    }

    static String objectId(final long k) {
        return "ct-" + k;
    }

    static String profileKey(final Profile profile) {
        return profile.getAccountId() + "|" + profile.getObjectId();
    }

    /** Every batch, serialized with {@code serializer} as if for {@code topic}. */
    List<Batch> batches(final Serializer<CohortSyncRequest> serializer, final String topic) {
        final List<Batch> batches = new ArrayList<>(batchCount());
        for (int b = 0; b < batchCount(); b++) {
            final int from = b * batchSize;
            final int to = Math.min(members, from + batchSize);
            final List<Member> batchMembers = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                batchMembers.add(member(i));
            }
            final int cohort = b % cohorts;
            final String cohortId = phase + "-cohort-" + cohort;
            final CohortSyncRequest request = CohortSyncRequest.newBuilder()
                .setAccountId(ACCOUNT)
                .setCohortId(cohortId)
                .setCohortName(phase + " cohort " + cohort)
                .setMessageId(phase + "-" + runId + "-" + b)
                .setComputedAt(Instant.ofEpochMilli(base + b))
                .setSyncType(SyncType.HOURLY)
                .setOperation(Operation.ADD)
                .setMembers(batchMembers)
                .build();
            batches.add(new Batch(b, ACCOUNT + "|" + cohortId, serializer.serialize(topic, request), to - from));
        }
        return batches;
    }

    /**
     * Member {@code i}: existing members are spread evenly among the new ones (Bresenham), and the k-th existing
     * member carries profile k's identity in one of three spellings, so case folding is exercised.
     */
    Member member(final long i) {
        final long before = i * existing / members;
        final boolean isExisting = (i + 1) * existing / members > before;
        final String identity;
        if (isExisting) {
            identity = switch ((int) (before % 3)) {
                case 0 -> "User" + before + "@Example.com";
                case 1 -> ("user" + before + "@example.com").toUpperCase(Locale.ROOT);
                default -> "user" + before + "@example.com";
            };
        } else {
            identity = "New-" + phase + "-User-" + i + "@Example.com";
        }
        final Map<String, String> properties = new HashMap<>(4);
        properties.put("CleverTap_Identity", identity);
        properties.put("plan", PLANS[(int) (i % PLANS.length)]);
        return Member.newBuilder()
            .setUserId("amp-" + i)
            .setDeviceId(deviceId(i))
            .setUserProperties(properties)
            .build();
    }

    private static String deviceId(final long n) {
        return String.format(Locale.ROOT, "%08X-%04X", n * 2_654_435_761L & 0xFFFFFFFFL, n & 0xFFFF);
    }
}
