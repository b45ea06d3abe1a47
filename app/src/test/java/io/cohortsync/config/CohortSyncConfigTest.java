package io.cohortsync.config;

import io.cohortsync.runtime.BoundedMemoryRocksDbConfig;
import io.cohortsync.runtime.StreamsSettings;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class CohortSyncConfigTest {

    @TempDir
    Path dir;

    @Test
    void layersApplyInOrderDefaultsFileEnvironmentFlags() throws IOException {
        final Path file = write("""
            topology:
              partitions: 8
            ingest:
              max-members-per-batch: 500
              message-id-retention: 2d
            kafka:
              bootstrap-servers: file-host:9092
            schema-registry:
              url: http://registry:8081
            """);
        final Map<String, String> env = Map.of("COHORT_SYNC_TOPOLOGY_PARTITIONS", "12");
        final CohortSyncConfig config = CohortSyncConfig.from(ConfigLayers.withDefaults(CohortSyncConfig.defaults(),
                env::get).file(file).environment()
            .flag("ingest.max-members-per-batch", "250", "--set ingest.max-members-per-batch"));

        assertThat(config.partitions()).isEqualTo(12);
        assertThat(config.maxMembersPerBatch()).isEqualTo(250);
        assertThat(config.messageIdRetention()).isEqualTo(Duration.ofDays(2));
        assertThat(config.bootstrapServers()).isEqualTo("file-host:9092");
        assertThat(config.embedded()).isFalse();
        assertThat(config.applicationId()).isEqualTo("cohort-sync");
    }

    @Test
    void aMisspeltEnvironmentVariableIsAnErrorNamingTheVariableItMeant() {
        assertThat(environmentError("COHORT_SYNC_STREAMS_STANDBY_REPLICA"))
            .contains("COHORT_SYNC_STREAMS_STANDBY_REPLICA is not a cohort-sync setting",
                "did you mean 'COHORT_SYNC_STREAMS_STANDBY_REPLICAS'");
    }

    @Test
    void aPassThroughKeyHasNoEnvironmentVariableAndSaysWhereToSetIt() {
        assertThat(environmentError("COHORT_SYNC_KAFKA_SECURITY_PROTOCOL"))
            .contains("COHORT_SYNC_KAFKA_SECURITY_PROTOCOL is not a cohort-sync setting", "--set");
    }

    /** The message of the configuration error the environment layer raises for this one variable. */
    private static String environmentError(final String variable) {
        final Map<String, String> env = Map.of(variable, "1");
        final InvalidConfigException error = catchThrowableOfType(InvalidConfigException.class,
            () -> ConfigLayers.withDefaults(CohortSyncConfig.defaults(), env::get).environment(env.keySet()));
        assertThat(error).as("an error for " + variable).isNotNull();
        return error.getMessage();
    }

    @Test
    void theVariablesThatAreNotKeysAndThoseTheFileNamesAreAccepted() throws IOException {
        final Path file = write("""
            http:
              token: "${COHORT_SYNC_SECRET_TOKEN}"
            """);
        final Map<String, String> env = Map.of("COHORT_SYNC_CONFIG", file.toString(), "COHORT_SYNC_LOG_LEVEL", "DEBUG",
            "COHORT_SYNC_SECRET_TOKEN", "t0ken", "COHORT_SYNC_STREAMS_STANDBY_REPLICAS", "1", "OTHER_VARIABLE", "x");

        final CohortSyncConfig config = CohortSyncConfig.from(ConfigLayers.withDefaults(CohortSyncConfig.defaults(),
            env::get).file(file).environment(env.keySet()));

        assertThat(config.standbyReplicas()).isEqualTo(1);
        assertThat(config.httpToken()).contains("t0ken");
    }

    /** Kubernetes adds these for a Service named cohort-sync (or cohort-sync-metrics) in the pod's namespace. */
    @Test
    void kubernetesServiceLinkVariablesAreNotTakenForMisspeltSettings() {
        final Map<String, String> env = new HashMap<>(Map.of("COHORT_SYNC_SERVICE_HOST", "10.0.0.1",
            "COHORT_SYNC_SERVICE_PORT", "8080", "COHORT_SYNC_SERVICE_PORT_HTTP", "8080",
            "COHORT_SYNC_PORT", "tcp://10.0.0.1:8080", "COHORT_SYNC_PORT_8080_TCP", "tcp://10.0.0.1:8080",
            "COHORT_SYNC_PORT_8080_TCP_PROTO", "tcp", "COHORT_SYNC_PORT_8080_TCP_PORT", "8080",
            "COHORT_SYNC_PORT_8080_TCP_ADDR", "10.0.0.1", "COHORT_SYNC_METRICS_SERVICE_HOST", "10.0.0.2",
            "COHORT_SYNC_METRICS_PORT", "tcp://10.0.0.2:9090"));
        env.put("COHORT_SYNC_HTTP_PORT", "9000");

        final CohortSyncConfig config = CohortSyncConfig.from(ConfigLayers.withDefaults(CohortSyncConfig.defaults(),
            env::get).environment(env.keySet()));

        assertThat(config.summary()).contains("http.port=9000 (environment COHORT_SYNC_HTTP_PORT)");
        assertThat(environmentError("COHORT_SYNC_HTTP_PROT")).contains("did you mean 'COHORT_SYNC_HTTP_PORT'");
        // A bare <SERVICE>_PORT is a link only with a link's value: a misspelt setting may end in _PORT too.
        assertThat(environmentError("COHORT_SYNC_EMBEDED_PORT")).contains("did you mean 'COHORT_SYNC_EMBEDDED_PORT'");
    }

    /**
     * A Service named cohort-sync-http (or cohort-sync-embedded) makes Kubernetes set COHORT_SYNC_HTTP_PORT (or
     * COHORT_SYNC_EMBEDDED_PORT) to tcp://<ip>:<port> in every pod of the namespace: the name of a setting, but a
     * service link's value, which must not become that setting (the start failed on a port that is not a number).
     */
    @Test
    void aServiceLinkThatSpellsASettingsVariableIsNotTakenForThatSetting() {
        final Map<String, String> env = Map.of("COHORT_SYNC_HTTP_PORT", "tcp://10.0.0.7:9999",
            "COHORT_SYNC_HTTP_SERVICE_HOST", "10.0.0.7", "COHORT_SYNC_HTTP_SERVICE_PORT", "9999",
            "COHORT_SYNC_EMBEDDED_PORT", "tcp://10.0.0.8:9092");

        final CohortSyncConfig config = CohortSyncConfig.from(ConfigLayers.withDefaults(CohortSyncConfig.defaults(),
            env::get).environment(env.keySet()));

        assertThat(config.httpPort()).isEqualTo(8080);
        assertThat(config.embeddedPort()).isZero();
    }

    /** What the start logs: every setting with the layer it came from, and no secret. */
    @Test
    void theSettingsSummaryNamesEveryValueAndItsLayerButNoSecret() {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of("streams.standby-replicas", "1",
            "kafka.bootstrap-servers", "k:9092", "schema-registry.url", "https://reg:r3gpass@registry:8081",
            "http.token", "t0p-secret", "schema-registry.basic-auth-user-info", "user:pa55word",
            "kafka.sasl.jaas.config", "PlainLoginModule required username=\"u\" password=\"jaa5\";",
            "kafka.ssl.keystore.password", "k3ystore", "kafka.security.protocol", "SASL_SSL"), """
            accounts:
              acme: {}
              beta: {}
            """);

        final String summary = config.summary();

        assertThat(summary).contains("streams.standby-replicas=1 (flag streams.standby-replicas)",
            "streams.num-threads=1 (default)", "kafka.security.protocol=SASL_SSL", "http.token=****",
            "schema-registry.basic-auth-user-info=****", "kafka.sasl.jaas.config=****",
            "kafka.ssl.keystore.password=****", "schema-registry.url=https://registry:8081", "accounts=[acme, beta]");
        assertThat(summary).doesNotContain("t0p-secret", "pa55word", "jaa5", "k3ystore", "r3gpass");
    }

    /**
     * Every Kafka client setting of type PASSWORD is a secret, whatever its name says: the private key's passphrase
     * for the OAuth JWT-bearer assertion (sasl.oauthbearer.assertion.private.key.passphrase) says neither "password"
     * nor "secret", and the start logged it in clear.
     */
    @Test
    void theSettingsSummaryMasksEveryKafkaPasswordSettingWhateverItsName() {
        final Map<String, String> settings = new HashMap<>(Map.of("kafka.bootstrap-servers", "k:9092",
            "schema-registry.url", "http://registry:8081"));
        final List<String> passwords = kafkaPasswordSettings();
        passwords.forEach(name -> {
            settings.put("kafka." + name, "kafka-" + name + "-value");
            settings.put("streams-config.producer." + name, "streams-" + name + "-value");
        });

        final String summary = CohortSyncConfig.of(settings, null).summary();

        assertThat(passwords).contains("sasl.oauthbearer.assertion.private.key.passphrase");
        passwords.forEach(name -> assertThat(summary).as(name)
            .contains("kafka." + name + "=****", "streams-config.producer." + name + "=****")
            .doesNotContain("kafka-" + name + "-value", "streams-" + name + "-value"));
    }

    private static List<String> kafkaPasswordSettings() {
        return Stream.of(ProducerConfig.configDef(), ConsumerConfig.configDef(), AdminClientConfig.configDef())
            .flatMap(def -> def.configKeys().values().stream())
            .filter(key -> key.type == ConfigDef.Type.PASSWORD)
            .map(key -> key.name).distinct().sorted().toList();
    }

    @Test
    void noKafkaMeansEmbeddedWithAnInMemoryRegistry() {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of(), null);

        assertThat(config.embedded()).isTrue();
        assertThat(config.schemaRegistryUrl()).isEqualTo("mock://cohort-sync");
        assertThat(config.replicationFactor()).isEqualTo((short) 1);
        assertThat(config.processingGuarantee()).isEqualTo("exactly_once_v2");
    }

    @Test
    void aRealClusterNeedsARegistry() {
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("kafka.bootstrap-servers", "k:9092"), null))
            .isInstanceOf(InvalidConfigException.class)
            .hasMessageContaining("schema-registry.url")
            .hasMessageContaining("COHORT_SYNC_SCHEMA_REGISTRY_URL");
    }

    @Test
    void aBadValueNamesItsKeyAndWhereItCameFrom() {
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("topology.partitions", "many"), null))
            .isInstanceOf(InvalidConfigException.class)
            .hasMessageContaining("topology.partitions (from flag topology.partitions)")
            .hasMessageContaining("'many'");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("ingest.message-id-retention", "a week"), null))
            .hasMessageContaining("duration");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("processing-guarantee", "exactly_once"), null))
            .hasMessageContaining("must be exactly_once_v2");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("processing-guarantee", "at_least_once"), null))
            .hasMessageContaining("does not support")
            .hasMessageContaining("transaction.state.log.replication.factor");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("streams-config.processing.guarantee", "at_least_once"),
            null)).hasMessageContaining("must stay exactly_once_v2");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("rocksdb.memtable-mb", "0"), null))
            .hasMessageContaining("rocksdb.memtable-mb")
            .hasMessageContaining("'auto' or a size in MB");
    }

    @Test
    void memtablesShareSevenEighthsOfTheWriteBufferBudgetUnlessSized() {
        final CohortSyncConfig defaults = CohortSyncConfig.of(Map.of(), null);
        assertThat(defaults.rocksDbMemtableBytes()).isEmpty();
        // 128 MB * 7/8 over 4 partitions of 7 stores: every store's memtable full stays under the flush line.
        assertThat(StreamsSettings.memtableBytes(defaults)).isEqualTo(4L << 20);
        assertThat(StreamsSettings.memtableBytes(CohortSyncConfig.of(Map.of("topology.partitions", "64"), null)))
            .isEqualTo(1L << 20);
        assertThat(StreamsSettings.memtableBytes(CohortSyncConfig.of(Map.of("rocksdb.write-buffer-mb", "4096"), null)))
            .isEqualTo(16L << 20);
        final CohortSyncConfig sized = CohortSyncConfig.of(Map.of("rocksdb.memtable-mb", "32"), null);
        assertThat(StreamsSettings.memtableBytes(sized)).isEqualTo(32L << 20);
        assertThat(StreamsSettings.of(sized, "k:9092").get(BoundedMemoryRocksDbConfig.MEMTABLE_BYTES))
            .isEqualTo(32L << 20);
    }

    @Test
    void thePartitionAssignorSeesTheProcessingHandlerEnabledForGlobalStateToo() {
        final StreamsConfig streams = new StreamsConfig(StreamsSettings.of(CohortSyncConfig.of(Map.of(), null),
            "k:9092"));
        assertThat(streams.getBoolean(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG)).isTrue();
        // The assignor's own StreamsConfig is built from these; without the flag it warns at every start.
        final Map<String, Object> assignorConfigs = streams.getMainConsumerConfigs("group", "client", 0);
        assertThat(new StreamsConfig(assignorConfigs)
            .getBoolean(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG)).isTrue();
    }

    @Test
    void aMisspeltKeyIsRejectedWithTheNearestKnownOne() {
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("topolgy.partitions", "8"), null))
            .isInstanceOf(InvalidConfigException.class)
            .hasMessageContaining("unknown setting topolgy.partitions")
            .hasMessageContaining("did you mean 'topology.partitions'?");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("kafka.bootstrap-server", "k:9092"), null))
            .isInstanceOf(InvalidConfigException.class)
            .hasMessageContaining("not a Kafka client setting")
            .hasMessageContaining("did you mean 'kafka.bootstrap-servers'?");
        assertThat(CohortSyncConfig.of(Map.of("kafka.security.protocol", "SSL",
            "streams-config.producer.compression.type", "none"), null).kafkaPassThrough())
            .containsEntry("security.protocol", "SSL");
    }

    @Test
    void aMisspeltKafkaClientKeyNamesTheNearestClientSetting() {
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("kafka.securty.protocol", "SSL"), null))
            .isInstanceOf(InvalidConfigException.class)
            .hasMessageContaining("unknown setting kafka.securty.protocol")
            .hasMessageContaining("did you mean 'kafka.security.protocol'?");
    }

    @Test
    void theClientsBootstrapServersKeyIsRefusedForCohortSyncsOwn() throws IOException {
        // A real client key that cohort-sync would overwrite with kafka.bootstrap-servers: refused, not ignored.
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("kafka.bootstrap.servers", "k:9092"), null))
            .isInstanceOf(InvalidConfigException.class)
            .hasMessageContaining("kafka.bootstrap.servers (from flag kafka.bootstrap.servers)")
            .hasMessageContaining("set that instead")
            .hasMessageContaining("kafka.bootstrap-servers");
        final Path file = write("""
            kafka:
              bootstrap.servers: k:9092
            """);
        assertThatThrownBy(() -> CohortSyncConfig.from(ConfigLayers.withDefaults(CohortSyncConfig.defaults(),
            name -> null).file(file))).hasMessageContaining("kafka.bootstrap-servers (with a dash)");
    }

    @Test
    void accountSettingsOutsideTheFileAreRefusedNotIgnored() {
        for (final String key : new String[] {"accounts.demo.import.policy", "accounts"}) {
            assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(key, "MATCH_ONLY"), null))
                .as(key)
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining(key + " (from flag " + key + ") cannot be set here")
                .hasMessageContaining("accounts section of the config file (--config FILE)");
        }
    }

    @Test
    void portsTimeoutsAndDurationsOutOfRangeAreRejectedWhenTheConfigIsRead() {
        for (final Map.Entry<String, String> bad : Map.of("http.port", "70000", "embedded.port", "65536",
            "export.request-timeout", "0s", "webhook.ack-timeout", "30d", "http.forward-timeout", "2h",
            "streams.commit-interval", "99999999999999999999s", "ingest.message-id-retention", "999999999999999d")
            .entrySet()) {
            assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(bad.getKey(), bad.getValue()), null))
                .as(bad.toString())
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining(bad.getKey());
        }
    }

    @Test
    void webhookSettingsThatWouldFailEveryCallAreRefusedAndItsRecordsFitIngest() {
        assertThat(CohortSyncConfig.of(Map.of("webhook.max-members-per-record", "2000",
            "ingest.max-members-per-batch", "1500"), null).webhookMaxMembersPerRecord()).isEqualTo(1500);
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("webhook.ack-timeout", "8m"), null))
            .isInstanceOf(InvalidConfigException.class)
            .hasMessageContaining("webhook.ack-timeout")
            .hasMessageContaining("60s");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("kafka.transactional.id", "mine"), null))
            .isInstanceOf(InvalidConfigException.class)
            .hasMessageContaining("kafka.transactional.id");
        assertThat(CohortSyncConfig.of(Map.of("webhook.max-members-per-record", "1500",
            "ingest.max-members-per-batch", "1500", "webhook.ack-timeout", "1m"), null).webhookAckTimeout())
            .hasSeconds(60);
    }

    @Test
    void fileValuesExpandEnvironmentPlaceholders() throws IOException {
        final Path file = write("""
            schema-registry:
              url: ${REGISTRY_URL}
              basic-auth-user-info: ${REGISTRY_AUTH:-alice:secret}
            kafka:
              bootstrap-servers: k:9092
            """);
        final CohortSyncConfig config = CohortSyncConfig.from(ConfigLayers.withDefaults(CohortSyncConfig.defaults(),
            Map.of("REGISTRY_URL", "http://bob:pw@reg:8081")::get).file(file));

        assertThat(config.serdeConfig()).containsEntry("schema.registry.url", "http://bob:pw@reg:8081")
            .containsEntry("basic.auth.user.info", "alice:secret");
        assertThat(config.schemaRegistryUrlForLogs()).isEqualTo("http://reg:8081");
        assertThatThrownBy(() -> ConfigLayers.withDefaults(CohortSyncConfig.defaults(), name -> null).file(file))
            .hasMessageContaining("${REGISTRY_URL}");
    }

    @Test
    void theExampleConfigInDeployLoadsWithTheDefaultMemoryBudget() {
        final CohortSyncConfig config = CohortSyncConfig.from(ConfigLayers.withDefaults(CohortSyncConfig.defaults(),
            name -> null).file(Path.of("..", "deploy", "cohort-sync.yaml")));

        assertThat(config.rocksDbWriteBufferBytes()).isEqualTo(CohortSyncConfig.of(Map.of(), null)
            .rocksDbWriteBufferBytes());
        assertThat(StreamsSettings.memtableBytes(config)).isEqualTo(4L << 20);
        assertThat(config.account("demo")).isPresent();
    }

    @Test
    void accountsAreReadWithTheirImportSettings() {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of(), """
            accounts:
              a1:
                import:
                  policy: create_unmatched
                  identity: user_id
              b1:
                import:
                  policy: MATCH_ONLY
                  identifiers: [external_id, "alias:label", device_id]
              c1: {}
            """);

        final ImportSettings a1 = config.account("a1").orElseThrow().importSettings();
        assertThat(a1.policy()).isEqualTo(ImportPolicy.CREATE_UNMATCHED);
        assertThat(a1.identity().kind()).isEqualTo(IdentifierField.Kind.USER_ID);
        assertThat(a1.anonymousId().kind()).isEqualTo(IdentifierField.Kind.DEVICE_ID);
        final ImportSettings b1 = config.account("b1").orElseThrow().importSettings();
        assertThat(b1.identifiers()).extracting(IdentifierField::toString)
            .containsExactly("user_id", "alias:label", "device_id");
        assertThat(config.account("c1").orElseThrow().importSettings().identity().name())
            .isEqualTo("CleverTap_Identity");
        assertThat(config.account("nope")).isEmpty();
    }

    @Test
    void theIdentifierChoicesTheReadmeDocumentsAreAccepted() {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of(), """
            accounts:
              ct:
                import:
                  identity: user_properties.email
                  anonymous-id: amplitude_id
              braze:
                import:
                  policy: MATCH_ONLY
            """);

        final ImportSettings ct = config.account("ct").orElseThrow().importSettings();
        assertThat(ct.identity()).isEqualTo(new IdentifierField(IdentifierField.Kind.USER_PROPERTY, "email"));
        assertThat(ct.anonymousId().kind()).isEqualTo(IdentifierField.Kind.AMPLITUDE_ID);
        assertThat(config.account("braze").orElseThrow().importSettings().identifiers())
            .extracting(IdentifierField::toString).containsExactly("user_id", "device_id");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(), """
            accounts:
              braze:
                import: {policy: MATCH_ONLY, identifiers: [amplitude_id]}
            """)).hasMessageContaining("import.identifiers cannot be 'amplitude_id'");
    }

    @Test
    void unknownOrInvalidAccountSettingsAreClearErrors() {
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(), "accounts:\n  a1:\n    import:\n      polcy: X\n"))
            .hasMessageContaining("unknown setting accounts.a1.import.polcy");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(), "accounts:\n  a1:\n    import:\n      policy: SOMETIMES\n"))
            .hasMessageContaining("CREATE_UNMATCHED or MATCH_ONLY");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(), "accounts:\n  a1:\n    import:\n      identity: phone\n"))
            .hasMessageContaining("unknown identifier field 'phone'");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(), "accounts:\n  a1:\n    import:\n      identity: device_id\n"))
            .hasMessageContaining("account 'a1': import.identity cannot be 'device_id'");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(), "accounts:\n  'a|b': {}\n"))
            .hasMessageContaining("contain no '|'");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(), "accounts: [1, 2]\n"))
            .hasMessageContaining("mapping");
    }

    @Test
    void aMissingOrBrokenFileIsAClearError() throws IOException {
        assertThatThrownBy(() -> ConfigLayers.withDefaults(CohortSyncConfig.defaults(), name -> null)
            .file(dir.resolve("missing.yaml"))).hasMessageContaining("does not exist");
        final Path broken = write("kafka: [unclosed");
        assertThatThrownBy(() -> ConfigLayers.withDefaults(CohortSyncConfig.defaults(), name -> null).file(broken))
            .hasMessageContaining("not valid YAML");
    }

    private Path write(final String yaml) throws IOException {
        final Path file = Files.createTempFile(dir, "config", ".yaml");
        Files.writeString(file, yaml);
        return file;
    }
}
