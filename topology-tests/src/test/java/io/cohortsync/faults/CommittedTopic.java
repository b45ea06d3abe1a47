package io.cohortsync.faults;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** What a read_committed consumer sees of a topic: all of it, or a running count while a test goes on. */
final class CommittedTopic {

    private CommittedTopic() {
    }

    /** Every committed record, from the beginning up to the last stable offset at the time of the call. */
    static <V> List<ConsumerRecord<String, V>> readAll(final String bootstrap, final String topic,
                                                      final Deserializer<V> deserializer) {
        final List<ConsumerRecord<String, V>> records = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(config(bootstrap), new StringDeserializer(),
            deserializer)) {
            final List<TopicPartition> partitions = partitions(consumer, topic);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // For a read_committed consumer these are the last stable offsets: nothing past an open transaction.
            final Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            final long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (ends.entrySet().stream().anyMatch(end -> consumer.position(end.getKey()) < end.getValue())) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("reading " + topic + " to " + ends + " took over 2 minutes");
                }
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    /** Counts a topic's committed records in the background until closed. */
    static final class Counter implements AutoCloseable {
        private final AtomicLong count = new AtomicLong();
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final Thread thread;

        Counter(final String bootstrap, final String topic) {
            consumer = new KafkaConsumer<>(config(bootstrap), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            final List<TopicPartition> partitions = partitions(consumer, topic);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            thread = new Thread(this::countUntilWokenUp, "committed-counter-" + topic);
            thread.setDaemon(true);
            thread.start();
        }

        long count() {
            return count.get();
        }

        private void countUntilWokenUp() {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    count.addAndGet(consumer.poll(Duration.ofMillis(200)).count());
                }
            } catch (final WakeupException e) {
                // close() asked us to stop.
            } finally {
                consumer.close(Duration.ofSeconds(5));
            }
        }

        @Override
        public void close() throws InterruptedException {
            consumer.wakeup();
            thread.join(10_000);
        }
    }

    private static Map<String, Object> config(final String bootstrap) {
        final Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
        return config;
    }

    private static List<TopicPartition> partitions(final KafkaConsumer<?, ?> consumer, final String topic) {
        return consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }
}
