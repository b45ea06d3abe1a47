package io.cohortsync.ingest;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.config.AccountSettings;
import io.cohortsync.deadletter.DeadLetters;
import io.cohortsync.deadletter.InputDecoder;
import io.cohortsync.deadletter.ReasonCode;
import io.cohortsync.identity.IdentityRules;
import io.cohortsync.identity.LookupGroups;
import io.cohortsync.internal.BatchInfo;
import io.cohortsync.internal.BatchOpened;
import io.cohortsync.internal.LookupChunk;
import io.cohortsync.internal.MemberLookup;
import io.cohortsync.topology.SlicedSweep;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * First stage, on the requests topic's partitions: decode and check a batch, drop a retried messageId, and split
 * the members into one {@link LookupChunk} per lookup group plus one {@link BatchOpened} that tells the segment's
 * partition how many members to expect.
 */
final class RequestIngestProcessor implements Processor<byte[], byte[], String, Object> {

    private static final Logger LOG = LoggerFactory.getLogger(RequestIngestProcessor.class);

    private final IngestSettings settings;
    private final Function<String, Optional<AccountSettings>> accounts;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, Long> messageIds;
    private SlicedSweep<Long> messageIdSweep;
    private InputDecoder<CohortSyncRequest> decoder;

    RequestIngestProcessor(final IngestSettings settings, final Function<String, Optional<AccountSettings>> accounts) {
        this.settings = settings;
        this.accounts = accounts;
    }

    @Override
    public void init(final ProcessorContext<String, Object> context) {
        this.context = context;
        this.messageIds = context.getStateStore(IngestTopology.MESSAGE_IDS_STORE);
        this.decoder = new InputDecoder<>(settings.requestSerde().deserializer(), settings.maxRecordBytes());
        this.messageIdSweep = new SlicedSweep<>(messageIds);
        context.schedule(SlicedSweep.INTERVAL, PunctuationType.WALL_CLOCK_TIME, this::forgetOldMessageIds);
    }

    @Override
    public void process(final Record<byte[], byte[]> record) {
        final String topic = context.recordMetadata().map(m -> m.topic()).orElse(settings.requestsTopic());
        final InputDecoder.Result<CohortSyncRequest> decoded = decoder.decode(topic, record.value());
        if (decoded.rejected()) {
            deadLetter(record, decoded.reason(), decoded.message());
            return;
        }
        if (decoded.value() == null) {
            deadLetter(record, ReasonCode.DESERIALIZATION_FAILED, "a request must have a value; got a tombstone");
            return;
        }
        final CohortSyncRequest request = decoded.value();
        final String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        final Optional<RequestRules.Rejection> rejection = RequestRules.check(key, request, settings.maxMembers(),
            Math.max(record.timestamp(), context.currentSystemTimeMs()));
        if (rejection.isPresent()) {
            deadLetter(record, rejection.get().reason(), rejection.get().message());
            return;
        }
        final Optional<AccountSettings> account = accounts.apply(request.getAccountId());
        if (account.isEmpty()) {
            deadLetter(record, ReasonCode.UNKNOWN_ACCOUNT, "account '" + request.getAccountId()
                + "' is not configured; add it under 'accounts' in the config file");
            return;
        }
        accept(record, key, request, account.get());
    }

    private void accept(final Record<byte[], byte[]> record, final String key, final CohortSyncRequest request,
                        final AccountSettings account) {
        final BatchInfo batch = batchInfo(request);
        final String messageKey = key + "|" + request.getMessageId();
        if (messageIds.get(messageKey) != null) {
            LOG.info("Dropping duplicate batch {} of account {} cohort {}", request.getMessageId(),
                request.getAccountId(), request.getCohortId());
            forward(record, key, opened(batch, true, request.getMembers().size(), 0, Map.of()));
            return;
        }
        messageIds.put(messageKey, context.currentSystemTimeMs());
        final Map<Integer, LookupChunks> groups = new TreeMap<>();
        final Map<String, Integer> rejected = new HashMap<>();
        for (final Member member : request.getMembers()) {
            final Optional<MemberLookup> lookup =
                IdentityRules.lookupFor(request.getAccountId(), member, account.importSettings(),
                    request.getOperation());
            if (lookup.isEmpty()) {
                rejected.merge(ReasonCode.NO_IDENTIFIER.name(), 1, Integer::sum);
            } else if (IdentityRules.hasValueTooLong(lookup.get())) {
                rejected.merge(ReasonCode.IDENTIFIER_TOO_LONG.name(), 1, Integer::sum);
            } else {
                final int group = LookupGroups.groupOf(lookup.get().getLookupKey(), settings.lookupGroups());
                groups.computeIfAbsent(group, g -> new LookupChunks(chunkBudget(batch))).add(lookup.get());
            }
        }
        final int resolvable = request.getMembers().size() - rejected.values().stream().mapToInt(i -> i).sum();
        forward(record, key, opened(batch, false, request.getMembers().size(), resolvable, rejected));
        groups.forEach((group, chunks) -> chunks.forEach(lookups ->
            forward(record, key, new LookupChunk(batch, group, lookups))));
    }

    /** What the members of one chunk may take: half the record limit, the rest left for the batch info and framing. */
    private long chunkBudget(final BatchInfo batch) {
        return settings.maxRecordBytes() / 2 - LookupChunks.upperBoundBytes(batch.getCohortName());
    }

    private void forward(final Record<byte[], byte[]> record, final String key, final Object value) {
        context.forward(new Record<>(key, value, record.timestamp()));
    }

    private static BatchInfo batchInfo(final CohortSyncRequest request) {
        return BatchInfo.newBuilder()
            .setAccountId(request.getAccountId())
            .setCohortId(request.getCohortId())
            .setCohortName(request.getCohortName())
            .setMessageId(request.getMessageId())
            .setComputedAt(request.getComputedAt().toEpochMilli())
            .setOperation(request.getOperation().name())
            .setSyncType(request.getSyncType().name())
            .build();
    }

    private static BatchOpened opened(final BatchInfo batch, final boolean duplicate, final int members,
                                      final int resolvable, final Map<String, Integer> rejected) {
        return new BatchOpened(batch, duplicate, members, resolvable, Map.copyOf(rejected));
    }

    private void deadLetter(final Record<byte[], byte[]> record, final ReasonCode reason, final String message) {
        LOG.warn("Dead-lettering request at {}: {} ({})", context.recordMetadata().map(Object::toString).orElse("?"),
            reason, message);
        DeadLetters.forward(context, record, reason, message);
    }

    private void forgetOldMessageIds(final long now) {
        final long cutoff = now - settings.messageIdRetention().toMillis();
        messageIdSweep.sweep(appliedAt -> appliedAt < cutoff);
    }
}
