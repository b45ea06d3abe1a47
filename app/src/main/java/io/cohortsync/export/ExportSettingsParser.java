package io.cohortsync.export;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohortsync.config.InvalidConfigException;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Reads an account's {@code export} section; every error names the setting (and never shows the API key). */
public final class ExportSettingsParser {

    private static final List<String> KEYS = List.of("api-key", "residency", "base-url", "device-id", "user-id",
        "endpoint", "events", "selected", "min-id-length");

    private ExportSettingsParser() {
    }

    /**
     * Placeholders ({@code ${VAR:-default}}) are already expanded by the config loader.
     *
     * @param node the {@code accounts.<id>.export} node; missing or null means the account does not export
     * @return the settings, or null when the account has no export section
     */
    public static ExportSettings parse(final String accountId, final JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return null;
        }
        final String where = "accounts." + accountId + ".export";
        if (!node.isObject()) {
            throw new InvalidConfigException(where + " must be a mapping");
        }
        node.fieldNames().forEachRemaining(name -> {
            if (!KEYS.contains(name)) {
                throw new InvalidConfigException("unknown setting " + where + "." + name + " (known: " + KEYS + ")");
            }
        });
        final EventSelection events = choice(EventSelection.class, text(node, "events"), where + ".events");
        final Set<String> selected = names(node.path("selected"));
        if (events == EventSelection.SELECTED && selected.isEmpty()) {
            throw new InvalidConfigException(where + ".events is SELECTED but " + where + ".selected lists no events");
        }
        return new ExportSettings(
            Secret.of(text(node, "api-key")),
            choice(Residency.class, text(node, "residency"), where + ".residency"),
            url(text(node, "base-url"), where + ".base-url"),
            mapping(node.path("device-id"), where + ".device-id"),
            mapping(node.path("user-id"), where + ".user-id"),
            choice(Endpoint.class, text(node, "endpoint"), where + ".endpoint"),
            events, selected, minIdLength(text(node, "min-id-length"), where + ".min-id-length"));
    }

    private static String text(final JsonNode node, final String key) {
        final JsonNode value = node.path(key);
        return value.isMissingNode() || value.isNull() ? null : value.asText().trim();
    }

    private static <E extends Enum<E>> E choice(final Class<E> type, final String raw, final String where) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        try {
            return Enum.valueOf(type, raw.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (final IllegalArgumentException e) {
            throw new InvalidConfigException(where + " must be one of " + List.of(type.getEnumConstants())
                + ", got '" + raw + "'");
        }
    }

    private static URI url(final String raw, final String where) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        try {
            final URI uri = new URI(raw);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new URISyntaxException(raw, "needs http:// or https:// and a host");
            }
            return uri;
        } catch (final URISyntaxException e) {
            throw new InvalidConfigException(where + " must be a URL such as https://api2.amplitude.com, got '"
                + raw + "' (" + e.getReason() + ")");
        }
    }

    private static IdMapping mapping(final JsonNode node, final String where) {
        if (node.isMissingNode() || node.isNull()) {
            return null;
        }
        final List<IdField> fields = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(item -> fields.add(IdField.parse(item.asText(), where)));
        } else {
            fields.add(IdField.parse(node.asText(), where));
        }
        if (fields.isEmpty()) {
            throw new InvalidConfigException(where + " must name at least one field");
        }
        return new IdMapping(fields);
    }

    private static Set<String> names(final JsonNode node) {
        final Set<String> names = new LinkedHashSet<>();
        if (node.isArray()) {
            node.forEach(item -> names.add(item.asText().trim()));
        } else if (!node.isMissingNode() && !node.isNull()) {
            names.add(node.asText().trim());
        }
        names.removeIf(String::isEmpty);
        return names;
    }

    private static int minIdLength(final String raw, final String where) {
        if (raw == null || raw.isBlank()) {
            return ExportSettings.DEFAULT_MIN_ID_LENGTH;
        }
        try {
            final int value = Integer.parseInt(raw);
            if (value < 1) {
                throw new NumberFormatException();
            }
            return value;
        } catch (final NumberFormatException e) {
            throw new InvalidConfigException(where + " must be a whole number >= 1, got '" + raw + "'");
        }
    }
}
