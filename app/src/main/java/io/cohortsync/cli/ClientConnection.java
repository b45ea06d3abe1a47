package io.cohortsync.cli;

import io.cohortsync.config.AccountSettings;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.config.InvalidConfigException;
import io.cohortsync.embedded.EmbeddedConnection;
import io.cohortsync.topology.Topics;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * How a client command (produce-sample, inspect) reaches Kafka and the registry: the configured cluster, or the
 * embedded service that `run` started on this machine.
 */
record ClientConnection(String bootstrapServers, Map<String, Object> serdeConfig, CohortSyncConfig config) {

    /** The embedded broker is on this machine: it answers a connect at once, or is not there. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

    static ClientConnection resolve(final CohortSyncConfig config) {
        if (!config.embedded()) {
            return new ClientConnection(config.bootstrapServers(), config.serdeConfig(), config);
        }
        final EmbeddedConnection embedded = EmbeddedConnection.readFrom(config.embeddedDataDir())
            .orElseThrow(() -> new InvalidConfigException("no Kafka configured and no embedded cohort-sync running "
                + "with data dir " + config.embeddedDataDir().toAbsolutePath() + ": start `run` first (in another "
                + "terminal, from the same directory), or pass --bootstrap-servers and --schema-registry-url"));
        if (!embedded.brokerListening(CONNECT_TIMEOUT)) {
            throw new InvalidConfigException("the cohort-sync started from this directory does not seem to be running: "
                + "nothing listens at " + embedded.bootstrapServers() + ", the address in "
                + EmbeddedConnection.file(config.embeddedDataDir()).toAbsolutePath() + " (left by a run that did not "
                + "stop cleanly); start it with `java -jar app/target/cohort-sync.jar run`");
        }
        final Map<String, Object> serde = new HashMap<>(config.serdeConfig());
        serde.put("schema.registry.url", embedded.schemaRegistryUrl());
        return new ClientConnection(embedded.bootstrapServers(), serde, config);
    }

    /** The settings of a configured account; an account the config does not have is a configuration error. */
    AccountSettings account(final String accountId) {
        return config.account(accountId).orElseThrow(() -> new InvalidConfigException("account '" + accountId
            + "' is not configured (known: " + config.accounts().keySet() + ")"));
    }

    Topics topics() {
        return Topics.create(config.topicPrefix(), serdeConfig);
    }

    Map<String, Object> clientConfig() {
        final Map<String, Object> client = new HashMap<>(config.kafkaPassThrough());
        client.put("bootstrap.servers", bootstrapServers);
        return client;
    }
}
