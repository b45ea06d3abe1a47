package io.cohortsync.config;

import java.util.List;

/**
 * An account's identity-resolution settings (ARCHITECTURE section 4).
 *
 * @param policy      CREATE_UNMATCHED (CleverTap) or MATCH_ONLY (Braze)
 * @param identity    CREATE_UNMATCHED: the member field holding the platform identity
 * @param anonymousId CREATE_UNMATCHED: the member field used as the CleverTap ID of an anonymous user
 * @param identifiers MATCH_ONLY: identifiers in priority order; the first one the member has is used
 */
public record ImportSettings(ImportPolicy policy, IdentifierField identity, IdentifierField anonymousId,
                             List<IdentifierField> identifiers) {

    public static final IdentifierField DEFAULT_IDENTITY = IdentifierField.parse("user_properties.CleverTap_Identity");
    public static final IdentifierField DEFAULT_ANONYMOUS_ID = IdentifierField.parse("device_id");
    public static final List<IdentifierField> DEFAULT_IDENTIFIERS =
        List.of(IdentifierField.parse("user_id"), IdentifierField.parse("device_id"));

    public ImportSettings {
        if (policy == null) {
            policy = ImportPolicy.CREATE_UNMATCHED;
        }
        identity = identity == null ? DEFAULT_IDENTITY : identity;
        anonymousId = anonymousId == null ? DEFAULT_ANONYMOUS_ID : anonymousId;
        identifiers = identifiers == null || identifiers.isEmpty() ? DEFAULT_IDENTIFIERS : List.copyOf(identifiers);
    }

    public static ImportSettings defaults() {
        return new ImportSettings(ImportPolicy.CREATE_UNMATCHED, null, null, null);
    }

    /** Rejects combinations the rules cannot apply, naming the account. */
    public ImportSettings validate(final String accountId) {
        if (policy == ImportPolicy.CREATE_UNMATCHED) {
            require(accountId, identity.kind() == IdentifierField.Kind.USER_ID
                || identity.kind() == IdentifierField.Kind.USER_PROPERTY, "import.identity", identity);
            require(accountId, anonymousId.kind() == IdentifierField.Kind.DEVICE_ID
                || anonymousId.kind() == IdentifierField.Kind.AMPLITUDE_ID, "import.anonymous-id", anonymousId);
        } else {
            for (final IdentifierField field : identifiers) {
                require(accountId, field.kind() != IdentifierField.Kind.AMPLITUDE_ID, "import.identifiers", field);
            }
        }
        return this;
    }

    private static void require(final String accountId, final boolean ok, final String key, final IdentifierField f) {
        if (!ok) {
            throw new InvalidConfigException("account '" + accountId + "': " + key + " cannot be '" + f + "'");
        }
    }
}
