package io.cohortsync.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * An account's Amplitude webhook settings: the passcodes Amplitude may send in {@code X-CleverTap-Passcode}.
 * A list, so a passcode can be rotated (add the new one, switch Amplitude over, remove the old one). An account
 * without passcodes cannot use the webhook: every call is 401.
 */
public record WebhookSettings(List<String> passcodes) {

    public WebhookSettings {
        passcodes = passcodes == null ? List.of() : List.copyOf(passcodes);
    }

    public static WebhookSettings none() {
        return new WebhookSettings(List.of());
    }

    /** Passcodes are secrets: never printed, not even by a debug log of the settings. */
    @Override
    public String toString() {
        return "WebhookSettings[" + passcodes.size() + " passcode(s)]";
    }

    /** Reads {@code accounts.<id>.webhook}: {@code passcodes}, a list of non-blank strings (or one string). */
    static WebhookSettings parse(final String accountId, final JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return none();
        }
        final String where = "accounts." + accountId + ".webhook";
        if (!node.isObject()) {
            throw new InvalidConfigException(where + " must be a mapping");
        }
        node.fieldNames().forEachRemaining(name -> {
            if (!"passcodes".equals(name)) {
                throw new InvalidConfigException("unknown setting " + where + "." + name + " (known: [passcodes])");
            }
        });
        final JsonNode raw = node.path("passcodes");
        final List<String> passcodes = new ArrayList<>();
        if (raw.isTextual()) {
            passcodes.add(raw.asText());
        } else {
            raw.forEach(item -> passcodes.add(item.isValueNode() ? item.asText() : ""));
        }
        for (final String passcode : passcodes) {
            if (passcode.isBlank()) {
                // The value itself is never put in the message: it is a secret.
                throw new InvalidConfigException(where + ".passcodes must be non-blank strings");
            }
        }
        return new WebhookSettings(passcodes);
    }
}
