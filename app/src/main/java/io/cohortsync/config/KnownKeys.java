package io.cohortsync.config;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Set;

/** What a configuration key may be: the settings Kafka's clients know (for {@code kafka.*}), and near misses. */
final class KnownKeys {

    static final Set<String> KAFKA_CLIENT_SETTINGS = kafkaClientSettings();

    private KnownKeys() {
    }

    private static Set<String> kafkaClientSettings() {
        final Set<String> names = new HashSet<>(ProducerConfig.configNames());
        names.addAll(ConsumerConfig.configNames());
        names.addAll(AdminClientConfig.configNames());
        return Set.copyOf(names);
    }

    /** "; did you mean 'x'?" for the known key closest to {@code key} (at most 3 edits away), or "". */
    static String suggestion(final String key, final Collection<String> known) {
        return known.stream()
            .filter(candidate -> distance(key, candidate) <= 3)
            .min(Comparator.comparingInt(candidate -> distance(key, candidate)))
            .map(candidate -> "; did you mean '" + candidate + "'?")
            .orElse("");
    }

    /** Levenshtein distance. */
    static int distance(final String a, final String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                final int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            final int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
