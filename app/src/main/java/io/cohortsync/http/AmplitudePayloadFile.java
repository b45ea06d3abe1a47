package io.cohortsync.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.SyncType;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.config.InvalidConfigException;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A file of Amplitude cohort webhook payloads (a JSON array of them, or one after another: NDJSON or pretty-printed)
 * read into the CohortSyncRequests the webhook would produce for the same calls: the same checks, the same splits
 * and message ids, so producing a file twice, or a file and the webhook, is recognised as a duplicate.
 */
public final class AmplitudePayloadFile {

    private AmplitudePayloadFile() {
    }

    /** The requests, in file order; the whole file is checked first, and the first problem fails it, named. */
    public static List<CohortSyncRequest> read(final Path file, final String accountId, final SyncType syncType,
                                               final CohortSyncConfig config) {
        final List<CohortSyncRequest> requests = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             MappingIterator<JsonNode> payloads = Json.readRequests(reader)) {
            int index = 0;
            while (payloads.hasNextValue()) {
                final JsonNode payload = payloads.nextValue();
                requests.addAll(requestsOf(file, index++, payload, accountId, syncType, config));
            }
            if (index == 0) {
                throw new InvalidConfigException(file + " holds no payload");
            }
        } catch (final NoSuchFileException e) {
            throw new InvalidConfigException("no such file: " + file);
        } catch (final IOException | RuntimeException e) {
            if (e instanceof InvalidConfigException invalid) {
                throw invalid;
            }
            throw new InvalidConfigException(file + " is not JSON (Amplitude cohort webhook payloads): "
                + e.getMessage());
        }
        return requests;
    }

    private static List<CohortSyncRequest> requestsOf(final Path file, final int index, final JsonNode payload,
                                                      final String accountId, final SyncType syncType,
                                                      final CohortSyncConfig config) {
        try {
            final WebhookBatch batch = WebhookPayload.parse(Json.bytes(payload), accountId, syncType);
            final List<CohortSyncRequest> records = batch.records(config.webhookMaxMembersPerRecord(),
                config.maxRecordBytes());
            records.forEach(record -> AmplitudeWebhook.requireIngestible(batch, record, config.maxMembersPerBatch()));
            return records;
        } catch (final HttpError error) {
            throw new InvalidConfigException(file + ", payload " + index + " (counting from 0)"
                + (error.field() == null ? "" : ", field " + error.field()) + ": " + error.getMessage());
        }
    }
}
