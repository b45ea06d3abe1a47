package io.cohortsync.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.avro.SyncType;
import io.cohortsync.ingest.RequestRules;

import java.io.CharArrayReader;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
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
 * instead of a surprise downstream: {@code in_cohort} must be a JSON boolean, ids must be strings. The body must be
 * UTF-8 (RFC 8259) and every string in it well-formed Unicode, so what reaches Kafka is exactly what was sent.
 */
final class WebhookPayload {

    private static final Pattern UNIX_SECONDS = Pattern.compile("\\d{1,12}(\\.\\d{1,9})?");
    private static final char BYTE_ORDER_MARK = '\uFEFF';
    private static final int MAX_PLAIN_SCALE = 100;

    private WebhookPayload() {
    }

    static WebhookBatch parse(final byte[] body, final String accountId, final SyncType syncType) {
        final JsonNode root = readJson(decodeUtf8(body));
        if (!root.isObject()) {
            throw HttpError.badRequest("the body must be a JSON object (Amplitude's cohort webhook payload)", null);
        }
        requireWellFormedUnicode(root, "");
        return new WebhookBatch(accountId,
            id(root, "cohort_id"),
            optionalText(root, "cohort_name"),
            operation(root),
            computedAtMs(root),
            id(root, "message_id"),
            syncType,
            users(root));
    }

    /**
     * The body as text, strictly UTF-8: an invalid, truncated or overlong sequence, or an encoded surrogate (CESU-8),
     * is a 400 naming the byte offset. Jackson alone would take UTF-16 and CESU-8 bodies and overlong forms, so a
     * body could mean something other than its bytes say. A leading byte order mark is skipped, as RFC 8259 allows.
     */
    private static CharBuffer decodeUtf8(final byte[] body) {
        final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
        final ByteBuffer in = ByteBuffer.wrap(body);
        // A UTF-8 body never decodes to more UTF-16 chars than it has bytes.
        final CharBuffer text = CharBuffer.allocate(body.length);
        CoderResult result = decoder.decode(in, text, true);
        if (!result.isError()) {
            result = decoder.flush(text);
        }
        if (result.isError()) {
            throw HttpError.badRequest("the body is not valid UTF-8: " + result.length() + " bad byte(s) at offset "
                + in.position() + " (JSON must be sent as UTF-8)", null);
        }
        text.flip();
        if (text.hasRemaining() && text.get(text.position()) == BYTE_ORDER_MARK) {
            text.position(text.position() + 1);
        }
        return text;
    }

    private static JsonNode readJson(final CharBuffer body) {
        try {
            final JsonNode root = Json.readRequest(new CharArrayReader(body.array(), body.position(),
                body.remaining()));
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

    /** The payload field (or header) a CohortSyncRequest field comes from, for an error that names it. */
    static String fieldOf(final String requestField) {
        return requestField == null ? null : switch (requestField) {
            case "accountId" -> AmplitudeWebhook.ACCOUNT_HEADER;
            case "cohortId" -> "cohort_id";
            case "cohortName" -> "cohort_name";
            case "messageId" -> "message_id";
            case "computedAt" -> "computed_time";
            case "members" -> "users";
            default -> requestField;
        };
    }

    /**
     * A non-blank string without '|' (the record key and the store keys use '|' as the separator) and without control
     * characters: these ids become record keys, the Partner Segment ID and query URLs, where a NUL or a line break
     * is never meant and breaks readers.
     */
    private static String id(final JsonNode root, final String field) {
        final JsonNode node = required(root, field);
        if (!node.isTextual() || node.textValue().isBlank()) {
            throw HttpError.badRequest(field + " must be a non-blank string, got " + describe(node), field);
        }
        if (node.textValue().contains("|")) {
            throw HttpError.badRequest(field + " must not contain '|'", field);
        }
        if (node.textValue().chars().anyMatch(Character::isISOControl)) {
            throw HttpError.badRequest(field + " must not contain control characters (U+0000-U+001F, U+007F-U+009F)",
                field);
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
            : node.isNumber() ? plainNumber(node) : null;
        if (raw == null || !UNIX_SECONDS.matcher(raw).matches()) {
            throw HttpError.badRequest("computed_time must be Unix seconds such as \"1692206763\", got "
                + describe(node), "computed_time");
        }
        final long computedAtMs = new BigDecimal(raw).movePointRight(3).longValue();
        final Duration ahead = RequestRules.MAX_COMPUTED_AHEAD;
        final Instant latest = Instant.now().plus(ahead);
        if (computedAtMs > latest.toEpochMilli()) {
            // Changes are ordered by computed_time: one dated in the future would make every real change to the same
            // members look stale until that date, so a wrong clock would freeze the segment.
            throw HttpError.badRequest("computed_time " + raw + " is more than " + ahead.toHours()
                + " hours ahead of this server's clock (" + latest.minus(ahead) + "); it must be when "
                + "Amplitude computed the change", "computed_time");
        }
        return computedAtMs;
    }

    /** Null for a number past a double's range (1e400): Jackson reads it as Infinity, which has no decimal form. */
    private static String plainNumber(final JsonNode node) {
        return Double.isFinite(node.doubleValue()) ? node.decimalValue().toPlainString() : null;
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
            throw HttpError.badRequest(where + ".amplitude_id must be an integer or a string, got " + describe(node),
                where + ".amplitude_id");
        }
        return node.asText();
    }

    /**
     * Values as strings: text as is, booleans as written, numbers as exact plain decimals (1.10 stays "1.10", 1e2 is
     * "100"), objects and arrays as JSON; null dropped.
     */
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
                properties.put(field.getKey(), value.isBigDecimal() ? decimalText(value.decimalValue())
                    : value.isValueNode() ? value.asText() : value.toString());
            }
        }
        return properties;
    }

    /** Plain unless the exponent is large: 1e999999999 in plain digits would be a gigabyte of zeros. */
    private static String decimalText(final BigDecimal value) {
        return Math.abs(value.scale()) <= MAX_PLAIN_SCALE ? value.toPlainString() : value.toString();
    }

    /**
     * JSON may escape one half of a surrogate pair on its own ({@code "\\ud800"}): valid JSON, but not Unicode text,
     * and Avro would write it as '?'. Any such string or property name is a 400 naming where it is.
     */
    private static void requireWellFormedUnicode(final JsonNode node, final String path) {
        if (node.isTextual()) {
            if (hasUnpairedSurrogate(node.textValue())) {
                throw unpairedSurrogate(path, path);
            }
        } else if (node.isObject()) {
            final Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                final Map.Entry<String, JsonNode> field = fields.next();
                if (hasUnpairedSurrogate(field.getKey())) {
                    throw unpairedSurrogate("a property name in " + (path.isEmpty() ? "the payload" : path),
                        path.isEmpty() ? null : path);
                }
                requireWellFormedUnicode(field.getValue(), path.isEmpty() ? field.getKey()
                    : path + "." + field.getKey());
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                requireWellFormedUnicode(node.get(i), path + "[" + i + "]");
            }
        }
    }

    private static boolean hasUnpairedSurrogate(final String text) {
        for (int i = 0; i < text.length(); i++) {
            final char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    private static HttpError unpairedSurrogate(final String what, final String field) {
        return HttpError.badRequest(what + " holds an unpaired UTF-16 surrogate escape (such as \\ud800 without its "
            + "pair), which is not Unicode text", field);
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
