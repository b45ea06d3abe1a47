package io.cohortsync.cli;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.config.ConfigLayers;
import io.cohortsync.config.InvalidConfigException;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The options every command shares, applied as the last configuration layer. */
final class ConfigOptions {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
        description = "YAML configuration file (default: $COHORT_SYNC_CONFIG, else the built-in embedded default)")
    Path configFile;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT,...",
        description = "Kafka to use; unset means the embedded in-process broker")
    String bootstrapServers;

    @Option(names = "--schema-registry-url", paramLabel = "URL",
        description = "Confluent-compatible schema registry (required with --bootstrap-servers)")
    String schemaRegistryUrl;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Any setting, e.g. --set topology.partitions=8")
    List<String> settings = new ArrayList<>();

    CohortSyncConfig load() {
        final ConfigLayers layers = ConfigLayers.withDefaults(CohortSyncConfig.defaults(), System::getenv);
        final String fromEnv = System.getenv("COHORT_SYNC_CONFIG");
        final Path file = configFile != null ? configFile : fromEnv != null ? Path.of(fromEnv) : null;
        if (file != null) {
            layers.file(file);
        } else {
            try (InputStream in = ConfigOptions.class.getResourceAsStream("/default-config.yaml")) {
                layers.yaml(in, "built-in default-config.yaml");
            } catch (final IOException e) {
                throw new InvalidConfigException("cannot read the built-in default config", e);
            }
        }
        layers.environment(System.getenv().keySet());
        layers.flag("kafka.bootstrap-servers", bootstrapServers, "--bootstrap-servers");
        layers.flag("schema-registry.url", schemaRegistryUrl, "--schema-registry-url");
        for (final String setting : settings) {
            final int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new InvalidConfigException("--set needs KEY=VALUE, got '" + setting + "'");
            }
            layers.flag(setting.substring(0, eq).trim(), setting.substring(eq + 1), "--set " + setting.substring(0, eq));
        }
        return CohortSyncConfig.from(layers);
    }

}
