package io.cohortsync.http;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.TopicBootstrapper;
import io.cohortsync.topology.Topic;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Writes webhook batches to the requests topic with an idempotent, acks=all producer, and returns only once the
 * broker has acknowledged every record: a 200 to Amplitude means nothing it sent can be lost. Anything else is a
 * retryable 503; a record that was written anyway is recognised by its message id when Amplitude retries.
 *
 * <p>A batch split into several records is written in one Kafka transaction ({@link SplitBatchProducers}): if a part
 * fails halfway, the transaction is aborted and read_committed readers (Kafka Streams always reads so, see
 * StreamsSettings) never see the parts already written. Without it, the first parts would be applied while the
 * caller hears "nothing was accepted", and stay applied if the caller never retries.
 */
final class RequestProducer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RequestProducer.class);

    private final Topic<String, CohortSyncRequest> topic;
    private final Serializer<CohortSyncRequest> serializer;
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaClientMetrics producerMetrics;
    private final SplitBatchProducers splitProducers;
    private final int maxRecordBytes;
    private final Duration ackTimeout;
    /** Set by {@link #open} once the service has checked or created its topics; nothing is written before. */
    private volatile boolean open;

    RequestProducer(final CohortSyncConfig config, final String bootstrapServers,
                    final Topic<String, CohortSyncRequest> topic, final MeterRegistry registry) {
        this.topic = topic;
        this.serializer = topic.valueSerde().serializer();
        this.maxRecordBytes = config.maxRecordBytes();
        this.ackTimeout = config.webhookAckTimeout();
        final Map<String, Object> producerConfig = producerConfig(config, bootstrapServers);
        this.producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
        this.producerMetrics = new KafkaClientMetrics(producer);
        producerMetrics.bindTo(registry);
        this.splitProducers = new SplitBatchProducers(producerConfig, config.applicationId(), ackTimeout, registry);
    }

    private static Map<String, Object> producerConfig(final CohortSyncConfig config, final String bootstrapServers) {
        final Map<String, Object> props = new HashMap<>(config.kafkaPassThrough());
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, config.applicationId() + "-webhook");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TopicBootstrapper.maxMessageBytes(config.maxRecordBytes()));
        // A broker that cannot be reached must turn into a quick 503 (Amplitude retries), not a blocked thread.
        final int ackTimeoutMs = (int) config.webhookAckTimeout().toMillis();
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, ackTimeoutMs);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.max(ackTimeoutMs, 1000));
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Math.max(ackTimeoutMs, 1000) + 5000);
        return props;
    }

    /**
     * Lets batches through: the requests topic now exists as configured. A write before that, on a broker with
     * {@code auto.create.topics.enable} (Kafka's default), would create it with the broker's partition count and
     * replication factor, and the service's topic check leaves existing topics alone.
     */
    void open() {
        open = true;
    }

    /**
     * Serialises every record first (so a too-large part is a 413 before anything is written), then sends: one
     * record as it is, several in one transaction. Before {@link #open}: a retryable 503, nothing written.
     */
    void sendAll(final String key, final List<CohortSyncRequest> records) {
        if (!open) {
            throw HttpError.unavailable("cohort-sync is starting: its Kafka topics are not checked yet; nothing was "
                + "accepted, please retry");
        }
        final List<byte[]> values = new ArrayList<>(records.size());
        for (final CohortSyncRequest record : records) {
            values.add(serialize(record));
        }
        final long deadline = System.nanoTime() + ackTimeout.toNanos();
        if (values.size() == 1) {
            awaitAcks(send(producer, key, values), deadline);
        } else {
            sendInOneTransaction(key, values, deadline);
        }
    }

    private List<Future<RecordMetadata>> send(final KafkaProducer<String, byte[]> target, final String key,
                                              final List<byte[]> values) {
        final List<Future<RecordMetadata>> acks = new ArrayList<>(values.size());
        try {
            for (final byte[] value : values) {
                acks.add(target.send(new ProducerRecord<>(topic.name(), key, value)));
            }
        } catch (final KafkaException e) {
            throw unavailable("Kafka did not take the records: " + e.getMessage(), e);
        }
        return acks;
    }

    /**
     * All parts or none: a failure before the commit aborts the transaction. Only a commit that Kafka does not confirm
     * leaves the outcome open (the broker may still complete it); the retry is then recognised part by part.
     */
    private void sendInOneTransaction(final String key, final List<byte[]> values, final long deadline) {
        final SplitBatchProducers.Pooled pooled = acquireSplitProducer(deadline);
        final KafkaProducer<String, byte[]> transactional = pooled.producer();
        try {
            transactional.beginTransaction();
            awaitAcks(send(transactional, key, values), deadline);
        } catch (final RuntimeException failure) {
            abortOrDiscard(pooled);
            throw failure instanceof HttpError error ? error
                : unavailable("Kafka did not take the records: " + failure.getMessage(), failure);
        }
        try {
            transactional.commitTransaction();
        } catch (final RuntimeException e) {
            splitProducers.discard(pooled);
            LOG.warn("Split webhook batch not confirmed (the caller will retry): {}", e.toString());
            throw HttpError.unavailable("Kafka did not confirm the transaction of the split batch (" + e.getMessage()
                + "); please retry: if it was applied after all, the retry is recognised as a duplicate");
        }
        splitProducers.release(pooled);
    }

    /** Aborts, so the producer can take the next batch; one that cannot abort is closed (the broker times it out). */
    private void abortOrDiscard(final SplitBatchProducers.Pooled pooled) {
        try {
            pooled.producer().abortTransaction();
            splitProducers.release(pooled);
        } catch (final RuntimeException e) {
            LOG.warn("Aborting the transaction of a split webhook batch failed; the broker aborts it after "
                + "transaction.timeout.ms: {}", e.toString());
            splitProducers.discard(pooled);
        }
    }

    private SplitBatchProducers.Pooled acquireSplitProducer(final long deadline) {
        final SplitBatchProducers.Pooled pooled;
        try {
            pooled = splitProducers.acquire(deadline);
        } catch (final KafkaException e) {
            throw unavailable("cannot start a Kafka transaction for the split batch: " + e.getMessage(), e);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("interrupted while waiting for a transactional producer", e);
        }
        if (pooled == null) {
            throw unavailable("all " + SplitBatchProducers.MAX_PRODUCERS + " transactional producers stayed busy for "
                + ackTimeout.toMillis() + " ms", null);
        }
        return pooled;
    }

    private byte[] serialize(final CohortSyncRequest record) {
        final byte[] value;
        try {
            value = serializer.serialize(topic.name(), record);
        } catch (final SerializationException e) {
            // The registry is down, or refuses the schema: not the caller's fault, and a retry may succeed.
            throw unavailable("cannot serialise the request with the schema registry: " + e.getMessage(), e);
        }
        requireFits(record, value.length, maxRecordBytes);
        return value;
    }

    /** Batches are split by size as well as by count, so only a user too large on their own fails this. */
    static void requireFits(final CohortSyncRequest record, final int bytes, final int maxRecordBytes) {
        if (bytes > maxRecordBytes) {
            throw HttpError.tooLarge("a record of " + record.getMembers().size() + " user(s) is " + bytes
                + " bytes, over ingest.max-record-bytes (" + maxRecordBytes + "): one user's ids and properties "
                + "must fit in it; send fewer properties or raise ingest.max-record-bytes");
        }
    }

    private void awaitAcks(final List<Future<RecordMetadata>> acks, final long deadline) {
        for (final Future<RecordMetadata> ack : acks) {
            try {
                ack.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (final ExecutionException e) {
                throw unavailable("Kafka did not acknowledge the records: " + e.getCause().getMessage(), e);
            } catch (final TimeoutException e) {
                throw unavailable("Kafka did not acknowledge the records within " + ackTimeout.toMillis() + " ms", e);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw unavailable("interrupted while waiting for Kafka", e);
            }
        }
    }

    private static HttpError unavailable(final String message, final Exception cause) {
        LOG.warn("Webhook batch not accepted (the caller will retry): {}", message);
        LOG.debug("Cause", cause);
        return HttpError.unavailable(message + "; nothing was accepted, please retry");
    }

    @Override
    public void close() {
        splitProducers.close();
        producerMetrics.close();
        producer.close(Duration.ofSeconds(5));
    }
}
