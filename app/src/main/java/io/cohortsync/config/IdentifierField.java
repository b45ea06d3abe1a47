package io.cohortsync.config;

import io.cohortsync.avro.Member;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Which field of an Amplitude cohort member an account reads an identifier from. Written in configuration as
 * {@code user_id} (alias {@code external_id}), {@code device_id}, {@code amplitude_id},
 * {@code user_properties.<name>} or {@code alias:<label>} (a Braze user alias whose name is the member's
 * user property {@code <label>}).
 */
public record IdentifierField(Kind kind, String name) {

    public enum Kind { USER_ID, DEVICE_ID, AMPLITUDE_ID, USER_PROPERTY, ALIAS }

    public static IdentifierField parse(final String spec) {
        final String trimmed = spec == null ? "" : spec.trim();
        final String lower = trimmed.toLowerCase(Locale.ROOT);
        switch (lower) {
            case "user_id", "external_id" -> { return new IdentifierField(Kind.USER_ID, null); }
            case "device_id" -> { return new IdentifierField(Kind.DEVICE_ID, null); }
            case "amplitude_id" -> { return new IdentifierField(Kind.AMPLITUDE_ID, null); }
            default -> { }
        }
        if (lower.startsWith("user_properties.") && trimmed.length() > "user_properties.".length()) {
            return new IdentifierField(Kind.USER_PROPERTY, trimmed.substring("user_properties.".length()));
        }
        if (lower.startsWith("alias:") && trimmed.length() > "alias:".length() && !trimmed.contains("|")) {
            return new IdentifierField(Kind.ALIAS, trimmed.substring("alias:".length()));
        }
        throw new InvalidConfigException("unknown identifier field '" + spec + "': expected user_id, external_id, "
            + "device_id, amplitude_id, user_properties.<name> or alias:<label>");
    }

    /** The member's non-blank value of this field, if it has one. */
    public Optional<String> valueOf(final Member member) {
        final String value = switch (kind) {
            case USER_ID -> member.getUserId();
            case DEVICE_ID -> member.getDeviceId();
            case AMPLITUDE_ID -> member.getAmplitudeId();
            case USER_PROPERTY, ALIAS -> property(member.getUserProperties(), name);
        };
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
    }

    private static String property(final Map<String, String> properties, final String key) {
        return properties == null ? null : properties.get(key);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case USER_ID -> "user_id";
            case DEVICE_ID -> "device_id";
            case AMPLITUDE_ID -> "amplitude_id";
            case USER_PROPERTY -> "user_properties." + name;
            case ALIAS -> "alias:" + name;
        };
    }
}
