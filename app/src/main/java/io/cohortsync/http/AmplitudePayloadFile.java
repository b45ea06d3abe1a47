package io.cohortsync.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.SyncType;
import io.cohortsync.config.CohortSyncConfig;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
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

    /** The file, or a payload in it, cannot be produced; the message names the file and what is wrong where. */
    public static final class InvalidFileException extends RuntimeException {
        InvalidFileException(final String message) {
            super(message);
        }
    }

    private static final int SINGLE_OBJECT_HEADER_BYTES = 10;
    private static final int CONFLUENT_HEADER_BYTES = 5;

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
                throw new InvalidFileException(file + " holds no payload");
            }
        } catch (final NoSuchFileException e) {
            throw new InvalidFileException("no such file: " + file);
        } catch (final IOException e) {
            throw new InvalidFileException("cannot read " + file + " as JSON (Amplitude cohort webhook payloads): "
                + e.getMessage());
        }
        return requests;
    }

    /** The record's size in the Confluent format: its Avro binary behind a 5-byte header (not the 10 of Avro's own). */
    private static int confluentBytes(final CohortSyncRequest record) {
        try {
            return record.toByteBuffer().remaining() - SINGLE_OBJECT_HEADER_BYTES + CONFLUENT_HEADER_BYTES;
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<CohortSyncRequest> requestsOf(final Path file, final int index, final JsonNode payload,
                                                      final String accountId, final SyncType syncType,
                                                      final CohortSyncConfig config) {
        try {
            final WebhookBatch batch = WebhookPayload.parse(Json.bytes(payload), accountId, syncType);
            final List<CohortSyncRequest> records = batch.records(config.webhookMaxMembersPerRecord(),
                config.maxRecordBytes());
            for (final CohortSyncRequest record : records) {
                AmplitudeWebhook.requireIngestible(batch, record, config.maxMembersPerBatch());
                RequestProducer.requireFits(record, confluentBytes(record), config.maxRecordBytes());
            }
            return records;
        } catch (final HttpError error) {
            throw new InvalidFileException(file + ", payload " + index + " (counting from 0)"
                + (error.field() == null ? "" : ", field " + error.field()) + ": " + error.getMessage());
        }
    }
}
