package io.cohortsync.config;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.util.HashSet;
import java.util.Set;

/** The settings Kafka's clients know: what a {@code kafka.*} configuration key may name. */
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
}
