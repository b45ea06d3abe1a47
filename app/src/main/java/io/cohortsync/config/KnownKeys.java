package io.cohortsync.config;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;

import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The settings Kafka's clients know: what a {@code kafka.*} configuration key may name. */
final class KnownKeys {

    static final Set<String> KAFKA_CLIENT_SETTINGS = kafkaClientSettings();
    /**
     * The client settings Kafka itself treats as secrets (type PASSWORD): passwords, private keys, JAAS configs, and
     * some whose names say neither, such as sasl.oauthbearer.assertion.private.key.passphrase.
     */
    static final Set<String> KAFKA_PASSWORD_SETTINGS = kafkaPasswordSettings();

    private KnownKeys() {
    }

    /**
     * What a misspelt {@code kafka.} key may have meant: cohort-sync's own {@code kafka.} settings and every client
     * setting with the prefix, but not those cohort-sync refuses.
     */
    static Set<String> kafkaKeys(final Set<String> cohortSyncKeys) {
        final Set<String> keys = new HashSet<>();
        cohortSyncKeys.stream().filter(key -> key.startsWith("kafka.")).forEach(keys::add);
        KAFKA_CLIENT_SETTINGS.forEach(setting -> keys.add("kafka." + setting));
        keys.removeAll(Set.of("kafka.bootstrap.servers", "kafka.transactional.id"));
        return keys;
    }

    private static Set<String> kafkaPasswordSettings() {
        return Stream.of(ProducerConfig.configDef(), ConsumerConfig.configDef(), AdminClientConfig.configDef())
            .flatMap(def -> def.configKeys().values().stream())
            .filter(key -> key.type == ConfigDef.Type.PASSWORD)
            .map(key -> key.name)
            .collect(Collectors.toUnmodifiableSet());
    }

    private static Set<String> kafkaClientSettings() {
        final Set<String> names = new HashSet<>(ProducerConfig.configNames());
        names.addAll(ConsumerConfig.configNames());
        names.addAll(AdminClientConfig.configNames());
        return Set.copyOf(names);
    }
}
