package io.cohortsync.bench;

import io.cohortsync.avro.PartnerSyncEvent;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Predicate;

/**
 * A read_committed consumer (no group: it assigns itself every partition from the beginning) that counts the output
 * events of one measurement and, for each, the latency from its batch's send to the moment the consumer saw it.
 * The batch is recovered from the event's {@code timestamp}: {@code base + batch index}; events outside that range
 * (an earlier phase's) are ignored.
 */
final class LatencyProbe implements Runnable {

    /** How long to keep reading after the expected count, to notice duplicates or extra events. */
    private static final Duration DRAIN = Duration.ofSeconds(2);

    private final Map<String, Object> consumerConfig;
    private final String topic;
    private final Deserializer<PartnerSyncEvent> deserializer;
    private final Predicate<PartnerSyncEvent> counted;
    private final long expected;
    private final long base;
    private final AtomicLongArray sendNanos;
    private final Duration stallTimeout;
    private final Duration hardTimeout;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final CountDownLatch complete = new CountDownLatch(1);
    private final CountDownLatch done = new CountDownLatch(1);

    private final long[] latencyNanos;
    private volatile long count;
    private volatile long extra;
    private volatile long ignored;
    private volatile long firstEventNanos;
    private volatile long lastEventNanos;
    private volatile Throwable failure;
    private volatile boolean stop;

    LatencyProbe(final Map<String, Object> clientConfig, final String topic,
                 final Deserializer<PartnerSyncEvent> deserializer, final Predicate<PartnerSyncEvent> counted,
                 final int expected, final long base, final AtomicLongArray sendNanos, final Duration stallTimeout,
                 final Duration hardTimeout) {
        this.base = base;
        this.consumerConfig = new HashMap<>(clientConfig);
        this.consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            IsolationLevel.READ_COMMITTED.toString().toLowerCase(Locale.ROOT));
        this.consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        this.consumerConfig.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        this.consumerConfig.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-latency-probe");
        this.topic = topic;
        this.deserializer = deserializer;
        this.counted = counted;
        this.expected = expected;
        this.sendNanos = sendNanos;
        this.stallTimeout = stallTimeout;
        this.hardTimeout = hardTimeout;
        this.latencyNanos = new long[expected];
    }

    @Override
    public void run() {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
            final List<PartitionInfo> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            final List<TopicPartition> assigned = partitions.stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(assigned);
            consumer.seekToBeginning(assigned);
            assigned.forEach(consumer::position);
            ready.countDown();
            consume(consumer);
        } catch (final Throwable t) {
            failure = t;
        } finally {
            ready.countDown();
            complete.countDown();
            done.countDown();
        }
    }

    private void consume(final KafkaConsumer<byte[], byte[]> consumer) {
        final long started = System.nanoTime();
        long lastProgress = started;
        long drainUntil = Long.MAX_VALUE;
        while (!stop) {
            final ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(50));
            final long now = System.nanoTime();
            for (final ConsumerRecord<byte[], byte[]> record : records) {
                final PartnerSyncEvent event = deserializer.deserialize(topic, record.value());
                final long batch = event.getTimestamp().toEpochMilli() - base;
                if (batch < 0 || batch >= sendNanos.length() || !counted.test(event)) {
                    ignored++;
                    continue;
                }
                if (count >= expected) {
                    extra++;
                    continue;
                }
                if (count == 0) {
                    firstEventNanos = now;
                }
                latencyNanos[(int) count] = now - sendNanos.get((int) batch);
                count++;
                lastProgress = now;
                if (count == expected) {
                    lastEventNanos = now;
                    drainUntil = now + DRAIN.toNanos();
                    complete.countDown();
                }
            }
            if (now >= drainUntil) {
                return;
            }
            if (count < expected && now - lastProgress > stallTimeout.toNanos()) {
                throw new IllegalStateException(String.format(Locale.ROOT, "no new event on %s for %d s: got %d of %d"
                    + " expected events", topic, stallTimeout.toSeconds(), count, expected));
            }
            if (count < expected && now - started > hardTimeout.toNanos()) {
                throw new IllegalStateException(String.format(Locale.ROOT, "timed out after %d s on %s: got %d of %d"
                    + " expected events", hardTimeout.toSeconds(), topic, count, expected));
            }
        }
    }

    void awaitReady() throws InterruptedException {
        if (!ready.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the latency probe on " + topic + " did not start within 60 s");
        }
        rethrow();
    }

    /** Waits until the expected count is reached (or the probe failed); the probe then drains a little longer. */
    void awaitComplete() throws InterruptedException {
        complete.await();
        rethrow();
    }

    /** As {@link #awaitComplete()}, but returns false after {@code timeout} if not complete yet. */
    boolean awaitComplete(final Duration timeout) throws InterruptedException {
        final boolean reached = complete.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        rethrow();
        return reached;
    }

    /** Waits for the probe to finish and fails loudly if it did not see every expected event. */
    void awaitDone() throws InterruptedException {
        done.await();
        rethrow();
        if (count < expected) {
            throw new IllegalStateException("only " + count + " of " + expected + " events arrived on " + topic);
        }
    }

    void stop() {
        stop = true;
    }

    private void rethrow() {
        if (failure != null) {
            throw new IllegalStateException("latency probe on " + topic + " failed: " + failure.getMessage(), failure);
        }
    }

    long count() {
        return count;
    }

    long extra() {
        return extra;
    }

    long ignored() {
        return ignored;
    }

    long firstEventNanos() {
        return firstEventNanos;
    }

    long lastEventNanos() {
        return lastEventNanos;
    }

    /** The latencies of the counted events, sorted ascending. */
    long[] sortedLatencies() {
        final long[] sorted = Arrays.copyOf(latencyNanos, (int) count);
        Arrays.sort(sorted);
        return sorted;
    }

    /** The p-quantile (0 &lt; p &le; 1) of a sorted array, nearest-rank. */
    static long percentile(final long[] sorted, final double p) {
        if (sorted.length == 0) {
            return 0;
        }
        final int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
