package io.cohortsync.cli;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.topology.Topic;
import io.cohortsync.topology.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = "Print the records of one of cohort-sync's topics (read_committed).")
final class InspectCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Parameters(paramLabel = "TOPIC", description = "requests, profiles, partner-sync, sync-reports, dlq, "
        + "engagement-events or amplitude-export (the prefix is added)")
    String topicName;

    @Option(names = "--max", defaultValue = "20", description = "Print at most this many records (default: ${DEFAULT-VALUE})")
    int max;

    @Option(names = "--idle", defaultValue = "3",
        description = "Stop after this many seconds without a record (default: ${DEFAULT-VALUE})")
    int idleSeconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        final CohortSyncConfig cohortSyncConfig = options.load();
        // Before connecting: a wrong name is answered at once, whether the service runs or not.
        final String fullName = fullTopicName(cohortSyncConfig.topicPrefix());
        final ClientConnection connection = ClientConnection.resolve(cohortSyncConfig);
        final Topic<?, ?> topic = connection.topics().all().stream()
            .filter(candidate -> candidate.name().equals(fullName)).findFirst().orElseThrow();
        final Map<String, Object> config = connection.clientConfig();
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        int printed = 0;
        int total = 0;
        try (KafkaConsumer<byte[], byte[]> consumer =
                 new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            final List<TopicPartition> partitions = consumer.partitionsFor(topic.name()).stream()
                .map((PartitionInfo p) -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long idleSince = System.currentTimeMillis();
            while (System.currentTimeMillis() - idleSince < idleSeconds * 1000L) {
                for (final ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    idleSince = System.currentTimeMillis();
                    total++;
                    if (printed < max) {
                        printed++;
                        System.out.println(format(topic, record));
                    }
                }
            }
        }
        System.out.printf("-- %d records in %s (printed %d; --max to see more)%n", total, topic.name(), printed);
        return 0;
    }

    private static String format(final Topic<?, ?> topic, final ConsumerRecord<byte[], byte[]> record) {
        final String key = record.key() == null ? "null" : new String(record.key(), StandardCharsets.UTF_8);
        Object value;
        try {
            value = topic.valueSerde().deserializer().deserialize(record.topic(), record.value());
        } catch (final RuntimeException e) {
            value = "<undecodable: " + e.getMessage() + ">";
        }
        return record.partition() + "@" + record.offset() + " " + key + " => " + value;
    }

    /** The exact short name or full name only: a suffix match would take {@code s} for {@code requests}. */
    private String fullTopicName(final String prefix) {
        if (Topics.SHORT_NAMES.contains(topicName)) {
            return prefix + topicName;
        }
        if (topicName.startsWith(prefix) && Topics.SHORT_NAMES.contains(topicName.substring(prefix.length()))) {
            return topicName;
        }
        throw new ParameterException(spec.commandLine(), "unknown topic '" + topicName + "': use one of "
            + String.join(", ", Topics.SHORT_NAMES) + " (or the full name, such as " + prefix + "requests)");
    }
}
