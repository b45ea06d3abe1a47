package io.cohortsync.export;

import io.cohortsync.config.InvalidConfigException;

import java.util.Locale;

/**
 * One field an Amplitude id can be taken from: {@code objectId} (the CleverTap ID), {@code identity},
 * {@code device_id}, {@code email}, {@code phone}, or {@code property.<name>} (an event property).
 *
 * @param kind     which field
 * @param property the property name, for {@link Kind#PROPERTY}
 */
public record IdField(Kind kind, String property) {

    public enum Kind { OBJECT_ID, IDENTITY, DEVICE_ID, EMAIL, PHONE, PROPERTY }

    private static final String PROPERTY_PREFIX = "property.";

    /** Reads one name as written in the config file; {@code where} names the setting in the error. */
    public static IdField parse(final String raw, final String where) {
        final String name = raw == null ? "" : raw.trim();
        if (name.startsWith(PROPERTY_PREFIX) && name.length() > PROPERTY_PREFIX.length()) {
            return new IdField(Kind.PROPERTY, name.substring(PROPERTY_PREFIX.length()));
        }
        return switch (name.toLowerCase(Locale.ROOT).replace("-", "_")) {
            case "objectid", "object_id", "clevertap_id" -> new IdField(Kind.OBJECT_ID, null);
            case "identity" -> new IdField(Kind.IDENTITY, null);
            case "device_id", "deviceid" -> new IdField(Kind.DEVICE_ID, null);
            case "email" -> new IdField(Kind.EMAIL, null);
            case "phone" -> new IdField(Kind.PHONE, null);
            default -> throw new InvalidConfigException(where + " must be objectId, identity, device_id, email, phone "
                + "or property.<name>, got '" + name + "'");
        };
    }

    @Override
    public String toString() {
        return switch (kind) {
            case OBJECT_ID -> "objectId";
            case IDENTITY -> "identity";
            case DEVICE_ID -> "device_id";
            case EMAIL -> "email";
            case PHONE -> "phone";
            case PROPERTY -> PROPERTY_PREFIX + property;
        };
    }
}
