package io.cohortsync.http;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.SyncType;
import io.cohortsync.metrics.CohortSyncMetrics;
import io.cohortsync.metrics.WebhookOutcome;
import io.javalin.http.Context;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
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

    private final Secrets secrets;
    private final RequestProducer producer;
    private final CohortSyncMetrics metrics;
    private final int maxBodyBytes;
    private final int maxMembersPerRecord;
    private final SyncType defaultSyncType;

    AmplitudeWebhook(final Secrets secrets, final RequestProducer producer, final CohortSyncMetrics metrics,
                     final int maxBodyBytes, final int maxMembersPerRecord, final SyncType defaultSyncType) {
        this.secrets = secrets;
        this.producer = producer;
        this.metrics = metrics;
        this.maxBodyBytes = maxBodyBytes;
        this.maxMembersPerRecord = maxMembersPerRecord;
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
        final SyncType syncType = syncType(ctx);
        final WebhookBatch batch = WebhookPayload.parse(readBody(ctx), accountId, syncType);
        final List<CohortSyncRequest> records = batch.records(maxMembersPerRecord);
        producer.sendAll(batch.key(), records);
        metrics.webhookMembersAccepted(accountId, batch.members().size());
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("accepted", batch.members().size());
        body.put("records", records.size());
        body.put("messageIds", records.stream().map(CohortSyncRequest::getMessageId).toList());
        Json.write(ctx, 200, body);
    }

    /** Unknown account, missing or wrong passcode: the same 401, so it does not tell which accounts exist. */
    private String authenticate(final Context ctx) {
        final String accountId = ctx.header(ACCOUNT_HEADER);
        if (!secrets.passcodeMatches(accountId, ctx.header(PASSCODE_HEADER))) {
            throw HttpError.unauthorized("unknown account or missing/wrong passcode: send the account id in "
                + ACCOUNT_HEADER + " and one of its webhook passcodes in " + PASSCODE_HEADER);
        }
        return accountId;
    }

    private static void requireJson(final Context ctx) {
        final String contentType = ctx.contentType();
        final String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].trim()
            .toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json")) {
            throw HttpError.unsupportedMediaType("Content-Type must be application/json, got "
                + (contentType == null ? "none" : "'" + contentType + "'"));
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
