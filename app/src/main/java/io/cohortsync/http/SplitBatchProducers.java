package io.cohortsync.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Transactional producers for split webhook batches, so that a batch's parts reach readers all together or not at
 * all. A transactional producer runs one transaction at a time, so concurrent split batches each take one from this
 * small pool ({@link #MAX_PRODUCERS}; a batch waits for one up to its deadline). Producers are created on first use
 * and kept while they work; one that failed in a way that leaves its transaction unknown is closed and replaced.
 *
 * <p>Transactional ids are {@code <application-id>-webhook-<random per process>-<n>}: two instances never fence each
 * other, and a transaction a crashed instance left open is aborted by the broker after {@code transaction.timeout.ms}
 * (short, see {@link #transactionTimeoutMs}), which is as long as read_committed readers of that partition wait.
 */
final class SplitBatchProducers implements AutoCloseable {

    /** Concurrent split batches: Amplitude sends one call per cohort at a time, and each takes well under a second. */
    static final int MAX_PRODUCERS = 4;

    private static final Logger LOG = LoggerFactory.getLogger(SplitBatchProducers.class);

    /** A pooled producer and the metrics bound to it (removed when it is closed). */
    record Pooled(KafkaProducer<String, byte[]> producer, KafkaClientMetrics metrics) {
    }

    private final Map<String, Object> config;
    private final String transactionalIdPrefix;
    private final MeterRegistry registry;
    private final Semaphore permits = new Semaphore(MAX_PRODUCERS);
    private final ConcurrentLinkedDeque<Pooled> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger created = new AtomicInteger();
    private volatile boolean closed;

    /** {@code producerConfig} is the idempotent producer's configuration; a transactional id is added per producer. */
    SplitBatchProducers(final Map<String, Object> producerConfig, final String applicationId,
                        final Duration ackTimeout, final MeterRegistry registry) {
        this.config = new HashMap<>(producerConfig);
        config.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, transactionTimeoutMs(ackTimeout));
        this.transactionalIdPrefix = applicationId + "-webhook-" + UUID.randomUUID() + "-";
        this.registry = registry;
    }

    /**
     * Long enough for a batch's sends and commit (each bounded by the ack timeout), short enough that a transaction
     * left open by a crash holds back read_committed readers of its partition only briefly.
     */
    static int transactionTimeoutMs(final Duration ackTimeout) {
        return (int) Math.max(ackTimeout.toMillis(), 1000) * 2 + 5000;
    }

    /**
     * A producer with transactions initialised, or null when none came free before {@code deadlineNanos}
     * ({@link System#nanoTime()}). Throws the client's exception when a new one cannot be initialised.
     */
    Pooled acquire(final long deadlineNanos) throws InterruptedException {
        if (!permits.tryAcquire(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            return null;
        }
        final Pooled pooled = idle.pollFirst();
        if (pooled != null) {
            return pooled;
        }
        try {
            return create();
        } catch (final RuntimeException e) {
            permits.release();
            throw e;
        }
    }

    /** Back to the pool: its last transaction was committed or aborted. */
    void release(final Pooled pooled) {
        idle.addFirst(pooled);
        permits.release();
        if (closed) {
            close();
        }
    }

    /** Closed and replaced by a new one next time: its transaction state is unknown or fatal. */
    void discard(final Pooled pooled) {
        closeQuietly(pooled, Duration.ZERO);
        permits.release();
    }

    private Pooled create() {
        final Map<String, Object> props = new HashMap<>(config);
        final int index = created.getAndIncrement();
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalIdPrefix + index);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, config.get(ProducerConfig.CLIENT_ID_CONFIG) + "-split-" + index);
        final KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
            new ByteArraySerializer());
        try {
            producer.initTransactions();
        } catch (final KafkaException e) {
            producer.close(Duration.ZERO);
            throw e;
        }
        final KafkaClientMetrics metrics = new KafkaClientMetrics(producer);
        metrics.bindTo(registry);
        return new Pooled(producer, metrics);
    }

    private static void closeQuietly(final Pooled pooled, final Duration timeout) {
        try {
            pooled.metrics().close();
            pooled.producer().close(timeout);
        } catch (final RuntimeException e) {
            LOG.debug("Closing a split-batch producer failed", e);
        }
    }

    @Override
    public void close() {
        closed = true;
        Pooled pooled;
        while ((pooled = idle.pollFirst()) != null) {
            closeQuietly(pooled, Duration.ofSeconds(1));
        }
    }
}
