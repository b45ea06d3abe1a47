package io.cohortsync.export;

import io.cohortsync.avro.Profile;

import java.util.List;
import java.util.Locale;

/**
 * Which fields become one Amplitude id (user_id or device_id): candidates in order, the first usable one the event
 * (or its profile) has wins. Absent values and values shorter than min_id_length are skipped (Amplitude would drop a
 * short id anyway); a value on Amplitude's invalid list is not skipped: it is returned, and the event is
 * dead-lettered, so an event is never silently attributed to a different id than the one the platform gave it.
 */
public record IdMapping(List<IdField> candidates) {

    public IdMapping {
        candidates = List.copyOf(candidates);
    }

    public static IdMapping of(final IdField... fields) {
        return new IdMapping(List.of(fields));
    }

    /**
     * The outcome: the chosen value (null when none), and whether a candidate was skipped for being too short.
     */
    public record Resolution(String value, boolean skippedShort) {
    }

    /** The first candidate the source has that is not blank and at least {@code minIdLength} long. */
    public Resolution resolve(final ExportSource source, final int minIdLength) {
        boolean skippedShort = false;
        for (final IdField field : candidates) {
            final String value = valueOf(field, source);
            if (value == null || value.isBlank()) {
                continue;
            }
            final boolean refused = AmplitudeRules.INVALID_IDS.contains(value.trim().toLowerCase(Locale.ROOT));
            if (!refused && value.length() < minIdLength) {
                skippedShort = true;
                continue;
            }
            return new Resolution(value, skippedShort);
        }
        return new Resolution(null, skippedShort);
    }

    private static String valueOf(final IdField field, final ExportSource source) {
        final Profile profile = source.profile();
        return switch (field.kind()) {
            case OBJECT_ID -> source.objectId();
            case IDENTITY -> firstPresent(source.identity(), profile == null ? null : profile.getIdentity());
            case DEVICE_ID -> firstPresent(source.deviceId(), profile == null || profile.getDeviceIds().isEmpty()
                ? null : profile.getDeviceIds().get(0));
            case EMAIL -> profile == null ? null : profile.getEmail();
            case PHONE -> profile == null ? null : profile.getPhone();
            case PROPERTY -> source.properties().get(field.property());
        };
    }

    private static String firstPresent(final String first, final String second) {
        return first != null && !first.isBlank() ? first : second;
    }

    /** Whether resolving needs the profile (then the topology looks it up in the profile table). */
    public boolean needsProfile() {
        return candidates.stream().anyMatch(f -> f.kind() == IdField.Kind.EMAIL || f.kind() == IdField.Kind.PHONE
            || f.kind() == IdField.Kind.IDENTITY || f.kind() == IdField.Kind.DEVICE_ID);
    }

    @Override
    public String toString() {
        return candidates.toString();
    }
}
