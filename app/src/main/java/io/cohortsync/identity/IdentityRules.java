package io.cohortsync.identity;

import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.Profile;
import io.cohortsync.config.IdentifierField;
import io.cohortsync.config.ImportPolicy;
import io.cohortsync.config.ImportSettings;
import io.cohortsync.internal.IndexEntry;
import io.cohortsync.internal.MemberLookup;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The identity rules of ARCHITECTURE section 4, in one place.
 *
 * <p>Every member is reduced to exactly one <em>lookup key</em>, and every profile is findable under a set of
 * lookup keys (its <em>index keys</em>). Both live in the same key space, partitioned the same way, so one
 * partition of the identity stage owns each key: that makes "find or create" race-free, and the new profile's
 * objectId is derived from the key as well, so replays and restarts can never make a second profile.
 *
 * <p>Key formats (the account id never contains '|'; the last part may):
 * <ul>
 *   <li>{@code <account>|i|<identity folded to lower case with Locale.ROOT>}: an identified profile</li>
 *   <li>{@code <account>|o|<objectId>}: any profile, by its CleverTap ID</li>
 *   <li>{@code <account>|d|<deviceId>}: an anonymous profile (no identity) by one of its device ids</li>
 *   <li>{@code <account>|a|<label>|<name>}: a profile by one of its aliases</li>
 * </ul>
 */
public final class IdentityRules {

    public static final String CREATED_BY = "partner-sync:Amplitude";
    private static final String GENERATED_ID_PREFIX = "__cs";
    /** Amplitude's limit for any string value; CleverTap's is 512 bytes, so no real identifier comes near it. */
    public static final int MAX_VALUE_CHARS = 1024;
    /** Room in a lookup key for {@code <accountId>|<kind>|} (and an alias's label) before the value. */
    private static final int KEY_PREFIX_ALLOWANCE = 256;

    private IdentityRules() {
    }

    /**
     * How one member resolves under its account's settings: a lookup, or empty when it carries no identifier.
     * Only an ADD may create a profile: a user the platform does not know cannot leave one of its segments.
     */
    public static Optional<MemberLookup> lookupFor(final String accountId, final Member member,
                                                   final ImportSettings settings, final Operation operation) {
        final Optional<MemberLookup> lookup = settings.policy() == ImportPolicy.CREATE_UNMATCHED
            ? createUnmatchedLookup(accountId, member, settings)
            : matchOnlyLookup(accountId, member, settings);
        if (operation == Operation.REMOVE) {
            lookup.ifPresent(found -> found.setCreateIfMissing(false));
        }
        return lookup;
    }

    /**
     * CREATE_UNMATCHED: the identity, matched case-insensitively, else the anonymous id as the CleverTap ID;
     * either way a missing profile is created.
     */
    private static Optional<MemberLookup> createUnmatchedLookup(final String accountId, final Member member,
                                                                final ImportSettings settings) {
        final Optional<String> identity = settings.identity().valueOf(member);
        final Optional<String> anonymousId = settings.anonymousId().valueOf(member);
        if (identity.isPresent()) {
            return Optional.of(lookup(identityKey(accountId, identity.get()), true, identity.get(),
                anonymousId.orElse(null), member));
        }
        return anonymousId.map(id -> lookup(objectKey(accountId, id), true, null, id, member));
    }

    /** MATCH_ONLY: the first identifier of the ordered list that the member has; nothing is ever created. */
    private static Optional<MemberLookup> matchOnlyLookup(final String accountId, final Member member,
                                                          final ImportSettings settings) {
        for (final IdentifierField field : settings.identifiers()) {
            final Optional<String> value = field.valueOf(member);
            if (value.isPresent()) {
                return Optional.of(MemberLookup.newBuilder()
                    .setLookupKey(matchOnlyKey(accountId, field, value.get()))
                    .setCreateIfMissing(false)
                    .build());
            }
        }
        return Optional.empty();
    }

    private static String matchOnlyKey(final String accountId, final IdentifierField field, final String value) {
        return switch (field.kind()) {
            case USER_ID, USER_PROPERTY -> identityKey(accountId, value);
            case DEVICE_ID -> deviceKey(accountId, value);
            case ALIAS -> aliasKey(accountId, field.name(), value);
            case AMPLITUDE_ID -> throw new IllegalStateException("amplitude_id is not a MATCH_ONLY identifier");
        };
    }

    private static MemberLookup lookup(final String key, final boolean create, final String identity,
                                       final String deviceId, final Member member) {
        return MemberLookup.newBuilder()
            .setLookupKey(key)
            .setCreateIfMissing(create)
            .setIdentity(identity)
            .setDeviceId(deviceId)
            .setEmail(property(member, "email", "Email"))
            .setPhone(property(member, "phone", "Phone"))
            .build();
    }

    /** The keys a profile is found by, each with the index entry it resolves to. */
    public static Map<String, IndexEntry> indexKeysOf(final Profile profile) {
        final String accountId = profile.getAccountId();
        final IndexEntry entry = new IndexEntry(profile.getObjectId(), blankToNull(profile.getIdentity()));
        final Map<String, IndexEntry> keys = new LinkedHashMap<>();
        keys.put(objectKey(accountId, profile.getObjectId()), entry);
        if (entry.getIdentity() != null) {
            keys.put(identityKey(accountId, entry.getIdentity()), entry);
        } else {
            // An identified profile is never matched by device id (Braze: "identified users ... can't be
            // identified by their device_id").
            for (final String deviceId : profile.getDeviceIds()) {
                keys.put(deviceKey(accountId, deviceId), entry);
            }
        }
        profile.getAliases().forEach((label, name) -> keys.put(aliasKey(accountId, label, name), entry));
        return keys;
    }

    /**
     * Whether a value the lookup carries is over {@link #MAX_VALUE_CHARS} (the profile it may create takes them all).
     * Its key holds the matched value after the account and a short kind prefix, which get room of their own.
     */
    public static boolean hasValueTooLong(final MemberLookup lookup) {
        return lookup.getLookupKey().length() > MAX_VALUE_CHARS + KEY_PREFIX_ALLOWANCE
            || tooLong(lookup.getIdentity()) || tooLong(lookup.getDeviceId()) || tooLong(lookup.getEmail())
            || tooLong(lookup.getPhone());
    }

    /**
     * The first value of a profile that the identity index would carry but could not (over {@link #MAX_VALUE_CHARS},
     * or an alias whose index key is over {@value #MAX_VALUE_CHARS} + {@value #KEY_PREFIX_ALLOWANCE}), or null; the
     * device ids of an identified profile are not indexed, so they are not checked. Each index update carries its value
     * several times, so an unbounded one could outgrow its internal topic's record limit and stop the stream thread on
     * every retry.
     */
    public static String valueTooLong(final Profile profile) {
        if (tooLong(profile.getObjectId()) || tooLong(profile.getAccountId())) {
            return tooLong(profile.getObjectId()) ? "objectId" : "accountId";
        }
        if (tooLong(profile.getIdentity())) {
            return "identity";
        }
        final boolean devicesIndexed = blankToNull(profile.getIdentity()) == null;
        if (devicesIndexed && profile.getDeviceIds().stream().anyMatch(IdentityRules::tooLong)) {
            return "device id";
        }
        final boolean aliasTooLong = profile.getAliases().entrySet().stream().anyMatch(alias ->
            aliasKey(profile.getAccountId(), alias.getKey(), alias.getValue()).length()
                > MAX_VALUE_CHARS + KEY_PREFIX_ALLOWANCE);
        return aliasTooLong ? "alias" : null;
    }

    private static boolean tooLong(final String value) {
        return value != null && value.length() > MAX_VALUE_CHARS;
    }

    /**
     * The CleverTap ID of a profile created for a lookup key: derived from the key, so it is the same on every replay.
     * {@code releasedIds} counts the ids generated for the key that a profile has since released (IdentityIndex): each
     * release moves to the next id. A device id used as the CleverTap ID is that id whatever the count.
     */
    public static String newObjectId(final String lookupKey, final int releasedIds) {
        if (isObjectKey(lookupKey)) {
            return lookupKey.substring(lookupKey.indexOf('|') + 3);
        }
        // A key starts with its account id, which holds no '|': a leading '|' keeps later ids apart from any key.
        final String name = releasedIds == 0 ? lookupKey : "|" + releasedIds + "|" + lookupKey;
        final UUID uuid = UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8));
        return GENERATED_ID_PREFIX + uuid.toString().replace("-", "");
    }

    /** Whether {@code objectId} is the id cohort-sync generates for {@code lookupKey} after {@code releasedIds}. */
    static boolean isGeneratedFor(final String objectId, final String lookupKey, final int releasedIds) {
        return !isObjectKey(lookupKey) && objectId.equals(newObjectId(lookupKey, releasedIds));
    }

    /** Whether the key finds a profile by its CleverTap ID (which a profile never loses but by being deleted). */
    static boolean isObjectKey(final String lookupKey) {
        return lookupKey.startsWith("o|", lookupKey.indexOf('|') + 1);
    }

    /**
     * Whether a profile could ever be created for this lookup: only CREATE_UNMATCHED lookups carry the identity or
     * device id a new profile takes, whether or not this one (a REMOVE) may create it.
     */
    public static boolean mayCreateLater(final MemberLookup lookup) {
        return lookup.getIdentity() != null || lookup.getDeviceId() != null;
    }

    public static Profile newProfile(final String accountId, final String objectId, final MemberLookup lookup,
                                     final long now) {
        return Profile.newBuilder()
            .setAccountId(accountId)
            .setObjectId(objectId)
            .setIdentity(lookup.getIdentity())
            .setEmail(lookup.getEmail())
            .setPhone(lookup.getPhone())
            .setDeviceIds(lookup.getDeviceId() == null ? List.of() : List.of(lookup.getDeviceId()))
            .setAliases(Map.of())
            .setCreatedAt(Instant.ofEpochMilli(now))
            .setUpdatedAt(Instant.ofEpochMilli(now))
            .setCreatedBy(CREATED_BY)
            .build();
    }

    /** Identities match case-insensitively (the seed's 'Clevertap1' is 'clevertap1'), independent of the locale. */
    public static String foldIdentity(final String identity) {
        return identity.toLowerCase(Locale.ROOT);
    }

    public static String identityKey(final String accountId, final String identity) {
        return accountId + "|i|" + foldIdentity(identity);
    }

    public static String objectKey(final String accountId, final String objectId) {
        return accountId + "|o|" + objectId;
    }

    public static String deviceKey(final String accountId, final String deviceId) {
        return accountId + "|d|" + deviceId;
    }

    public static String aliasKey(final String accountId, final String label, final String name) {
        return accountId + "|a|" + label + "|" + name;
    }

    private static String property(final Member member, final String... names) {
        for (final String name : names) {
            final String value = member.getUserProperties().get(name);
            if (value != null && !value.isBlank()) {
                return value;
            }
        }
        return null;
    }

    private static String blankToNull(final String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
