package io.cohortsync.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.SyncType;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads Amplitude's default cohort webhook payload ({@code cohort_name}, {@code cohort_id}, {@code in_cohort},
 * {@code computed_time}, {@code message_id}, {@code users[]} with {@code user_id}, {@code user_properties} and
 * optionally {@code device_id} / {@code amplitude_id}). Strict about types, so a problem is a 400 naming the field
 * instead of a surprise downstream: {@code in_cohort} must be a JSON boolean, ids must be strings.
 */
final class WebhookPayload {

    private static final Pattern UNIX_SECONDS = Pattern.compile("\\d{1,12}(\\.\\d{1,9})?");

    private WebhookPayload() {
    }

    static WebhookBatch parse(final byte[] body, final String accountId, final SyncType syncType) {
        final JsonNode root = readJson(body);
        if (!root.isObject()) {
            throw HttpError.badRequest("the body must be a JSON object (Amplitude's cohort webhook payload)", null);
        }
        return new WebhookBatch(accountId,
            id(root, "cohort_id"),
            optionalText(root, "cohort_name"),
            operation(root),
            computedAtMs(root),
            id(root, "message_id"),
            syncType,
            users(root));
    }

    private static JsonNode readJson(final byte[] body) {
        try {
            final JsonNode root = Json.read(body);
            if (root == null || root.isMissingNode()) {
                throw HttpError.badRequest("the body is empty; expected Amplitude's cohort webhook JSON", null);
            }
            return root;
        } catch (final JsonProcessingException e) {
            throw HttpError.badRequest("malformed JSON: " + e.getOriginalMessage(), null);
        } catch (final IOException e) {
            throw HttpError.badRequest("unreadable body: " + e.getMessage(), null);
        }
    }

    private static Operation operation(final JsonNode root) {
        return bool(root, "in_cohort") ? Operation.ADD : Operation.REMOVE;
    }

    private static boolean bool(final JsonNode root, final String field) {
        final JsonNode node = required(root, field);
        if (!node.isBoolean()) {
            throw HttpError.badRequest(field + " must be a JSON boolean (true = entering, false = leaving), got "
                + describe(node), field);
        }
        return node.booleanValue();
    }

    /** A non-blank string without '|' (the record key and the store keys use '|' as the separator). */
    private static String id(final JsonNode root, final String field) {
        final JsonNode node = required(root, field);
        if (!node.isTextual() || node.textValue().isBlank()) {
            throw HttpError.badRequest(field + " must be a non-blank string, got " + describe(node), field);
        }
        if (node.textValue().contains("|")) {
            throw HttpError.badRequest(field + " must not contain '|'", field);
        }
        return node.textValue();
    }

    private static String optionalText(final JsonNode root, final String field) {
        final JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw HttpError.badRequest(field + " must be a string, got " + describe(node), field);
        }
        return node.textValue();
    }

    /** Unix seconds, as Amplitude sends them (a string such as "1692206763"); a JSON number is accepted too. */
    private static long computedAtMs(final JsonNode root) {
        final JsonNode node = required(root, "computed_time");
        final String raw = node.isTextual() ? node.textValue().trim()
            : node.isNumber() ? node.decimalValue().toPlainString() : null;
        if (raw == null || !UNIX_SECONDS.matcher(raw).matches()) {
            throw HttpError.badRequest("computed_time must be Unix seconds such as \"1692206763\", got "
                + describe(node), "computed_time");
        }
        return new BigDecimal(raw).movePointRight(3).longValue();
    }

    private static List<Member> users(final JsonNode root) {
        final JsonNode users = required(root, "users");
        if (!users.isArray()) {
            throw HttpError.badRequest("users must be an array, got " + describe(users), "users");
        }
        final List<Member> members = new ArrayList<>(users.size());
        for (int i = 0; i < users.size(); i++) {
            members.add(member(users.get(i), "users[" + i + "]"));
        }
        return members;
    }

    private static Member member(final JsonNode user, final String where) {
        if (!user.isObject()) {
            throw HttpError.badRequest(where + " must be an object, got " + describe(user), where);
        }
        return Member.newBuilder()
            .setUserId(optionalId(user, "user_id", where))
            .setDeviceId(optionalId(user, "device_id", where))
            .setAmplitudeId(amplitudeId(user, where))
            .setUserProperties(properties(user, where))
            .build();
    }

    private static String optionalId(final JsonNode user, final String field, final String where) {
        final JsonNode node = user.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw HttpError.badRequest(where + "." + field + " must be a string or null, got " + describe(node),
                where + "." + field);
        }
        return node.textValue().isEmpty() ? null : node.textValue();
    }

    private static String amplitudeId(final JsonNode user, final String where) {
        final JsonNode node = user.get("amplitude_id");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual() && !node.isIntegralNumber()) {
            throw HttpError.badRequest(where + ".amplitude_id must be a number or a string, got " + describe(node),
                where + ".amplitude_id");
        }
        return node.asText();
    }

    /** Values as strings: text as is, numbers and booleans as written, objects and arrays as JSON; null dropped. */
    private static Map<String, String> properties(final JsonNode user, final String where) {
        final JsonNode node = user.get("user_properties");
        if (node == null || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw HttpError.badRequest(where + ".user_properties must be an object, got " + describe(node),
                where + ".user_properties");
        }
        final Map<String, String> properties = new LinkedHashMap<>();
        final Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            final Map.Entry<String, JsonNode> field = fields.next();
            final JsonNode value = field.getValue();
            if (!value.isNull()) {
                properties.put(field.getKey(), value.isValueNode() ? value.asText() : value.toString());
            }
        }
        return properties;
    }

    private static JsonNode required(final JsonNode root, final String field) {
        final JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            throw HttpError.badRequest(field + " is required", field);
        }
        return node;
    }

    private static String describe(final JsonNode node) {
        return switch (node.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }
}
