package io.cohortsync.http;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.SyncType;
import io.cohortsync.ingest.RequestRules;
import io.cohortsync.metrics.CohortSyncMetrics;
import io.cohortsync.metrics.WebhookOutcome;
import io.javalin.http.Context;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code POST /webhooks/amplitude}: Amplitude's cohort webhook. The account comes from {@code X-CleverTap-Account-Id}
 * and is authenticated by {@code X-CleverTap-Passcode} (CleverTap's API headers, set as extra headers on the
 * Amplitude destination). It only checks and produces, so it answers well inside Amplitude's 1-2 s timeout.
 */
final class AmplitudeWebhook {

    static final String PATH = "/webhooks/amplitude";
    static final String ACCOUNT_HEADER = "X-CleverTap-Account-Id";
    static final String PASSCODE_HEADER = "X-CleverTap-Passcode";
    static final String SYNC_TYPE_PARAM = "sync_type";
    static final String CONTENT_ENCODING_HEADER = "Content-Encoding";

    private final Secrets secrets;
    private final RequestProducer producer;
    private final CohortSyncMetrics metrics;
    private final int maxBodyBytes;
    private final int maxMembersPerRecord;
    private final int maxMembersPerBatch;
    private final int maxRecordBytes;
    private final SyncType defaultSyncType;

    AmplitudeWebhook(final Secrets secrets, final RequestProducer producer, final CohortSyncMetrics metrics,
                     final int maxBodyBytes, final int maxMembersPerRecord, final int maxMembersPerBatch,
                     final int maxRecordBytes, final SyncType defaultSyncType) {
        this.secrets = secrets;
        this.producer = producer;
        this.metrics = metrics;
        this.maxBodyBytes = maxBodyBytes;
        this.maxMembersPerRecord = maxMembersPerRecord;
        this.maxMembersPerBatch = maxMembersPerBatch;
        this.maxRecordBytes = maxRecordBytes;
        this.defaultSyncType = defaultSyncType;
    }

    void handle(final Context ctx) {
        final long started = System.nanoTime();
        try {
            accept(ctx);
            metrics.webhookRequest(WebhookOutcome.ACCEPTED, Duration.ofNanos(System.nanoTime() - started));
        } catch (final HttpError error) {
            metrics.webhookRequest(WebhookOutcome.ofStatus(error.status()),
                Duration.ofNanos(System.nanoTime() - started));
            throw error;
        } catch (final RuntimeException error) {
            metrics.webhookRequest(WebhookOutcome.ERROR, Duration.ofNanos(System.nanoTime() - started));
            throw error;
        }
    }

    private void accept(final Context ctx) {
        final String accountId = authenticate(ctx);
        requireJson(ctx);
        requireIdentityEncoding(ctx);
        final SyncType syncType = syncType(ctx);
        final WebhookBatch batch = WebhookPayload.parse(readBody(ctx), accountId, syncType);
        final List<CohortSyncRequest> records = batch.records(maxMembersPerRecord, maxRecordBytes);
        records.forEach(record -> requireIngestible(batch, record, maxMembersPerBatch));
        producer.sendAll(batch.key(), records);
        metrics.webhookMembersAccepted(accountId, batch.members().size());
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("accepted", batch.members().size());
        body.put("records", records.size());
        body.put("messageIds", records.stream().map(CohortSyncRequest::getMessageId).toList());
        Json.write(ctx, 200, body);
    }

    /**
     * Ingest's own checks, before anything is produced: a record it would dead-letter must not be answered 200, or
     * Amplitude would never send the change again.
     */
    static void requireIngestible(final WebhookBatch batch, final CohortSyncRequest record,
                                  final int maxMembersPerBatch) {
        RequestRules.check(batch.key(), record, maxMembersPerBatch, System.currentTimeMillis()).ifPresent(rejection -> {
            throw HttpError.badRequest(rejection.message() + (record.getMessageId().equals(batch.messageId()) ? ""
                : " (the batch is split into records with message ids <message_id>|part-<n>)"),
                WebhookPayload.fieldOf(rejection.field()));
        });
    }

    /**
     * Unknown account, missing or wrong passcode: the same 401, so it does not tell which accounts exist. Each header
     * must come exactly once: with two, proxies and servers disagree on which one counts, so a passcode that one of
     * them checked could let the other one through with the wrong account.
     */
    private String authenticate(final Context ctx) {
        final String accountId = singleHeader(ctx, ACCOUNT_HEADER);
        if (!secrets.passcodeMatches(accountId, singleHeader(ctx, PASSCODE_HEADER))) {
            throw HttpError.unauthorized("unknown account or missing/wrong passcode: send the account id in "
                + ACCOUNT_HEADER + " and one of its webhook passcodes in " + PASSCODE_HEADER + ", once each");
        }
        return accountId;
    }

    /** The header's value when it is sent exactly once, else null (missing, or repeated: ambiguous). */
    private static String singleHeader(final Context ctx, final String name) {
        final List<String> values = Collections.list(ctx.req().getHeaders(name));
        return values.size() == 1 ? values.get(0) : null;
    }

    /**
     * application/json, with no charset or charset=utf-8: JSON is UTF-8 (RFC 8259), and a body declared in another
     * charset would be read as something its sender did not mean.
     */
    private static void requireJson(final Context ctx) {
        final String contentType = ctx.contentType();
        final String[] parts = contentType == null ? new String[] {""} : contentType.split(";");
        final String mediaType = parts[0].trim().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json")) {
            throw HttpError.unsupportedMediaType("Content-Type must be application/json, got "
                + (contentType == null ? "none" : "'" + contentType + "'"));
        }
        for (int i = 1; i < parts.length; i++) {
            final String[] parameter = parts[i].split("=", 2);
            if (parameter[0].trim().equalsIgnoreCase("charset")) {
                final String charset = parameter.length < 2 ? "" : parameter[1].trim().replace("\"", "");
                if (!charset.equalsIgnoreCase("utf-8")) {
                    throw HttpError.unsupportedMediaType("the body must be UTF-8 JSON (Content-Type: application/json "
                        + "or application/json; charset=utf-8), got charset '" + charset + "'");
                }
            }
        }
    }

    /**
     * The body is read as it arrives: a compressed one would only fail later as malformed JSON, so say what is wrong
     * (RFC 9110: 415, with the codings accepted in Accept-Encoding).
     */
    private static void requireIdentityEncoding(final Context ctx) {
        final String encoding = ctx.header(CONTENT_ENCODING_HEADER);
        if (encoding != null && !encoding.isBlank() && !encoding.trim().equalsIgnoreCase("identity")) {
            ctx.header("Accept-Encoding", "identity");
            throw HttpError.unsupportedMediaType("Content-Encoding '" + encoding + "' is not supported: send the JSON "
                + "uncompressed");
        }
    }

    private SyncType syncType(final Context ctx) {
        final String raw = ctx.queryParam(SYNC_TYPE_PARAM);
        if (raw == null || raw.isBlank()) {
            return defaultSyncType;
        }
        try {
            return SyncType.valueOf(raw.trim().toUpperCase(Locale.ROOT));
        } catch (final IllegalArgumentException e) {
            throw HttpError.badRequest(SYNC_TYPE_PARAM + " must be ONE_TIME, HOURLY, DAILY or REAL_TIME, got '"
                + raw + "'", SYNC_TYPE_PARAM);
        }
    }

    /** Refuses a declared length over the limit without reading, and stops reading a body that grows past it. */
    private byte[] readBody(final Context ctx) {
        final long declared = ctx.req().getContentLengthLong();
        if (declared > maxBodyBytes) {
            // Closing is the only way not to read the body: otherwise Jetty waits to drain it before answering.
            ctx.header("Connection", "close");
            throw tooLarge(declared + " bytes");
        }
        try (InputStream in = ctx.req().getInputStream()) {
            final ByteArrayOutputStream out = new ByteArrayOutputStream(declared > 0 ? (int) declared : 8192);
            final byte[] buffer = new byte[64 * 1024];
            int read;
            while ((read = in.read(buffer)) != -1) {
                if (out.size() + read > maxBodyBytes) {
                    ctx.header("Connection", "close");
                    throw tooLarge("more than " + maxBodyBytes + " bytes");
                }
                out.write(buffer, 0, read);
            }
            return out.toByteArray();
        } catch (final IOException e) {
            throw HttpError.badRequest("cannot read the request body: " + e.getMessage(), null);
        }
    }

    private HttpError tooLarge(final String size) {
        return HttpError.tooLarge("the body is " + size + "; at most " + maxBodyBytes
            + " bytes are accepted (webhook.max-body-bytes)");
    }
}
