package io.cohortsync.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohortsync.serde.KeySuggestions;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The service's typed settings, read from {@link ConfigLayers}. Every key, its default and its environment
 * variable are listed in the README ("Configuration").
 */
public final class CohortSyncConfig {

    public static final String EMBEDDED_REGISTRY_URL = "mock://cohort-sync";

    /** Amplitude waits 1-2 s; a minute keeps a split batch's transaction (twice this, plus 5 s) within 15 minutes. */
    private static final Duration MAX_WEBHOOK_ACK_TIMEOUT = Duration.ofMinutes(1);
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
    private static final Duration MAX_TIMEOUT = Duration.ofHours(1);
    /**
     * Keys whose names say their values are secrets: cohort-sync's own, and Kafka's passwords, passphrases, JAAS configs
     * and private keys. Kafka's PASSWORD-typed settings are masked too, whatever their names ({@link #secret}).
     */
    private static final Pattern SECRET_KEY = Pattern.compile(
        "token|user-info|password|passphrase|secret|jaas|credential|keystore\\.key|\\.key$");

    private final Map<String, String> values;
    private final ConfigLayers layers;
    private final Map<String, AccountSettings> accounts;

    private CohortSyncConfig(final ConfigLayers layers) {
        this.layers = layers;
        this.values = layers.values();
        this.accounts = AccountsParser.parse(AccountPlaceholders.expand(layers));
        validate();
    }

    /** The built-in defaults: the first layer. */
    public static Map<String, String> defaults() {
        final Map<String, String> d = new LinkedHashMap<>();
        d.put("kafka.bootstrap-servers", "");
        d.put("schema-registry.url", "");
        d.put("schema-registry.basic-auth-user-info", "");
        d.put("schema-registry.auto-register", "true");
        d.put("application-id", "cohort-sync");
        d.put("topic-prefix", "cohort-sync.");
        d.put("topology.partitions", "4");
        d.put("topics.replication-factor", "3");
        d.put("topics.create", "true");
        d.put("processing-guarantee", "exactly_once_v2");
        d.put("streams.num-threads", "1");
        d.put("streams.standby-replicas", "0");
        d.put("streams.commit-interval", "1s");
        d.put("state-dir", ".cohort-sync/state");
        d.put("embedded.data-dir", ".cohort-sync/kafka");
        d.put("embedded.port", "0");
        d.put("ingest.max-members-per-batch", "10000");
        d.put("ingest.max-record-bytes", "8388608");
        d.put("ingest.message-id-retention", "7d");
        d.put("membership.marker-retention", "30d");
        d.put("rocksdb.block-cache-mb", "256");
        d.put("rocksdb.write-buffer-mb", "128");
        d.put("rocksdb.memtable-mb", "auto");
        d.put("http.port", "8080");
        d.put("http.host", "");
        d.put("http.advertised-host", "");
        d.put("http.token", "");
        d.put("http.forward-timeout", "5s");
        d.put("webhook.max-body-bytes", "16777216");
        d.put("webhook.max-members-per-record", "1000");
        d.put("webhook.ack-timeout", "5s");
        d.put("webhook.default-sync-type", "REAL_TIME");
        // The exporter to Amplitude (README "Export to Amplitude"); per-account settings are in accounts.<id>.export.
        d.put("export.enabled", "true");
        d.put("export.dry-run-file", "");
        d.put("export.group-id", "");
        d.put("export.linger", "100ms");
        d.put("export.max-in-flight-requests", "4");
        d.put("export.max-buffered-events", "50000");
        d.put("export.max-events-per-id-per-second", "0");
        d.put("export.request-timeout", "30s");
        d.put("export.retry-backoff", "200ms");
        d.put("export.retry-backoff-max", "30s");
        d.put("export.throttle-wait", "30s");
        d.put("export.daily-quota-wait", "1h");
        d.put("export.commit-interval", "1s");
        return d;
    }

    public static CohortSyncConfig from(final ConfigLayers layers) {
        return new CohortSyncConfig(layers);
    }

    /**
     * Defaults and environment only, plus the given overrides: for tests and tools. The HTTP port is 0 (a free one)
     * unless overridden, so tests and tools never fight a running service (or each other) for port 8080.
     */
    public static CohortSyncConfig of(final Map<String, String> overrides, final String accountsYaml) {
        final ConfigLayers layers = ConfigLayers.withDefaults(defaults(), name -> null);
        layers.flag("http.port", "0", "CohortSyncConfig.of");
        if (accountsYaml != null) {
            layers.yaml(new java.io.ByteArrayInputStream(accountsYaml.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                "inline");
        }
        overrides.forEach((key, value) -> layers.flag(key, value, key));
        return from(layers);
    }

    public boolean embedded() {
        return string("kafka.bootstrap-servers").isBlank();
    }

    public String bootstrapServers() {
        return string("kafka.bootstrap-servers");
    }

    public String schemaRegistryUrl() {
        final String url = string("schema-registry.url");
        return url.isBlank() && embedded() ? EMBEDDED_REGISTRY_URL : url;
    }

    /** The registry URL without any user:password part, for logs and errors. */
    public String schemaRegistryUrlForLogs() {
        return schemaRegistryUrl().replaceAll("(?<=://)[^/@]*@", "");
    }

    /** Serde configs for {@code io.cohortsync.serde.ConfluentAvroSerde}. */
    public Map<String, Object> serdeConfig() {
        final Map<String, Object> config = new LinkedHashMap<>();
        config.put("schema.registry.url", schemaRegistryUrl());
        config.put("auto.register.schemas", bool("schema-registry.auto-register"));
        final String userInfo = string("schema-registry.basic-auth-user-info");
        if (!userInfo.isBlank()) {
            config.put("basic.auth.credentials.source", "USER_INFO");
            config.put("basic.auth.user.info", userInfo);
        }
        return config;
    }

    public String applicationId() {
        return string("application-id");
    }

    public String topicPrefix() {
        return string("topic-prefix");
    }

    public int partitions() {
        return positiveInt("topology.partitions");
    }

    public short replicationFactor() {
        return embedded() ? 1 : (short) positiveInt("topics.replication-factor");
    }

    public boolean createTopics() {
        return bool("topics.create");
    }

    public String processingGuarantee() {
        return string("processing-guarantee");
    }

    public int streamThreads() {
        return positiveInt("streams.num-threads");
    }

    public int standbyReplicas() {
        return nonNegativeInt("streams.standby-replicas");
    }

    public Duration commitInterval() {
        return duration("streams.commit-interval");
    }

    public Path stateDir() {
        return Path.of(string("state-dir"));
    }

    public Path embeddedDataDir() {
        return Path.of(string("embedded.data-dir"));
    }

    public int embeddedPort() {
        return port("embedded.port");
    }

    public int maxMembersPerBatch() {
        return positiveInt("ingest.max-members-per-batch");
    }

    public int maxRecordBytes() {
        return positiveInt("ingest.max-record-bytes");
    }

    public Duration messageIdRetention() {
        return duration("ingest.message-id-retention");
    }

    public Duration markerRetention() {
        return duration("membership.marker-retention");
    }

    public long rocksDbBlockCacheBytes() {
        return positiveInt("rocksdb.block-cache-mb") * 1024L * 1024L;
    }

    public long rocksDbWriteBufferBytes() {
        return positiveInt("rocksdb.write-buffer-mb") * 1024L * 1024L;
    }

    /** One store's memtable size, or empty for {@code auto} (a share of the write-buffer budget). */
    public Optional<Long> rocksDbMemtableBytes() {
        final String value = string("rocksdb.memtable-mb");
        if ("auto".equals(value)) {
            return Optional.empty();
        }
        if (!value.matches("[1-9]\\d{0,5}")) {
            throw new InvalidConfigException(describe("rocksdb.memtable-mb")
                + " must be 'auto' or a size in MB greater than 0, got '" + value + "'");
        }
        return Optional.of(Long.parseLong(value) * 1024L * 1024L);
    }

    /** The HTTP port; 0 picks a free one (see {@code CohortSyncService.httpPort()}). */
    public int httpPort() {
        return port("http.port");
    }

    /** The bind address: {@code http.host}, else 0.0.0.0 when a token protects the queries, else loopback only. */
    public String httpHost() {
        final String host = string("http.host");
        if (!host.isBlank()) {
            return host;
        }
        return httpToken().isEmpty() ? "127.0.0.1" : "0.0.0.0";
    }

    /** The host other instances use to reach this one ({@code application.server}). */
    public String httpAdvertisedHost() {
        final String advertised = string("http.advertised-host");
        return advertised.isBlank() ? HttpBinding.advertisedHostFor(httpHost()) : advertised;
    }

    /** The bearer token of the query and metrics endpoints; empty = none (and then loopback only). A secret. */
    public Optional<String> httpToken() {
        final String token = string("http.token");
        return token.isBlank() ? Optional.empty() : Optional.of(token);
    }

    public Duration httpForwardTimeout() {
        return timeout("http.forward-timeout");
    }

    public int webhookMaxBodyBytes() {
        return positiveInt("webhook.max-body-bytes");
    }

    /** At most ingest.max-members-per-batch: ingest would dead-letter a larger record the webhook answered 200 for. */
    public int webhookMaxMembersPerRecord() {
        return Math.min(positiveInt("webhook.max-members-per-record"), maxMembersPerBatch());
    }

    public Duration webhookAckTimeout() {
        return timeout("webhook.ack-timeout");
    }

    public String webhookDefaultSyncType() {
        return string("webhook.default-sync-type").toUpperCase(Locale.ROOT);
    }

    public boolean exportEnabled() {
        return bool("export.enabled");
    }

    /** Where dry-run exports write their request bodies; by default next to the state dir. */
    public Path exportDryRunFile() {
        final String file = string("export.dry-run-file");
        final Path stateParent = stateDir().toAbsolutePath().getParent();
        return file.isBlank() ? stateParent.resolve("amplitude-requests.ndjson") : Path.of(file);
    }

    public String exportGroupId() {
        final String group = string("export.group-id");
        return group.isBlank() ? applicationId() + "-amplitude-exporter" : group;
    }

    public Duration exportLinger() {
        return duration("export.linger");
    }

    public int exportMaxInFlightRequests() {
        return positiveInt("export.max-in-flight-requests");
    }

    public int exportMaxBufferedEvents() {
        return positiveInt("export.max-buffered-events");
    }

    /** 0 means the endpoint's documented limit (30 on HTTP V2, 1000 on /batch). */
    public int exportMaxEventsPerIdPerSecond() {
        return nonNegativeInt("export.max-events-per-id-per-second");
    }

    public Duration exportRequestTimeout() {
        return timeout("export.request-timeout");
    }

    public Duration exportRetryBackoff() {
        return duration("export.retry-backoff");
    }

    public Duration exportRetryBackoffMax() {
        return duration("export.retry-backoff-max");
    }

    public Duration exportThrottleWait() {
        return duration("export.throttle-wait");
    }

    public Duration exportDailyQuotaWait() {
        return duration("export.daily-quota-wait");
    }

    public Duration exportCommitInterval() {
        return duration("export.commit-interval");
    }

    public Map<String, AccountSettings> accounts() {
        return accounts;
    }

    public Optional<AccountSettings> account(final String accountId) {
        return Optional.ofNullable(accounts.get(accountId));
    }

    /** Extra client settings: every {@code kafka.<name>} key other than bootstrap-servers, passed as {@code <name>}. */
    public Map<String, Object> kafkaPassThrough() {
        return withPrefix("kafka.", List.of("kafka.bootstrap-servers"));
    }

    /** Extra Streams settings: every {@code streams-config.<name>} key, passed as {@code <name>}. */
    public Map<String, Object> streamsPassThrough() {
        return withPrefix("streams-config.", List.of());
    }

    /**
     * Every setting with the layer it came from, one a line, and the account ids: what the start logs, so an operator
     * sees what the service runs with. Secrets show as {@code ****}, and the registry URL without its credentials.
     */
    public String summary() {
        final StringBuilder out = new StringBuilder();
        new TreeMap<>(values).forEach((key, value) -> out.append("\n  ").append(key).append('=')
            .append(shown(key, value)).append(" (").append(layers.source(key)).append(')'));
        return out.append("\n  accounts=").append(new TreeSet<>(accounts.keySet())).toString();
    }

    private String shown(final String key, final String value) {
        if (key.equals("schema-registry.url")) {
            return schemaRegistryUrlForLogs();
        }
        return secret(key) && !value.isBlank() ? "****" : value;
    }

    /**
     * Whether a key's value is a secret: by its name, or because it is (under {@code kafka.}, or with any prefix under
     * {@code streams-config.}) a setting Kafka's clients take as a password, whatever its name says.
     */
    private static boolean secret(final String key) {
        return SECRET_KEY.matcher(key).find()
            || KnownKeys.KAFKA_PASSWORD_SETTINGS.stream().anyMatch(setting -> key.endsWith("." + setting));
    }

    public String describe(final String key) {
        return key + " (from " + layers.source(key) + ")";
    }

    private Map<String, Object> withPrefix(final String prefix, final List<String> excluded) {
        final Map<String, Object> out = new LinkedHashMap<>();
        values.forEach((key, value) -> {
            if (key.startsWith(prefix) && !excluded.contains(key)) {
                out.put(key.substring(prefix.length()), value);
            }
        });
        return out;
    }

    private void validate() {
        if (!embedded() && string("schema-registry.url").isBlank()) {
            throw new InvalidConfigException("kafka.bootstrap-servers is set (" + describe("kafka.bootstrap-servers")
                + ") but schema-registry.url is not: a real cluster needs a Confluent-compatible schema registry "
                + "(set schema-registry.url, or " + ConfigLayers.envName("schema-registry.url") + ")");
        }
        final String guarantee = processingGuarantee();
        if (guarantee.equals("at_least_once")) {
            // Stores are written before the records they cause are sent. Under at_least_once a send that fails after
            // that is not rolled back: the replayed input finds the change already made and sends nothing.
            throw new InvalidConfigException(describe("processing-guarantee") + " is at_least_once, which cohort-sync "
                + "does not support: a failed send would lose the Partner Sync events, profiles and batches whose "
                + "state was already stored. Use exactly_once_v2; on fewer than 3 brokers, set the brokers' "
                + "transaction.state.log.replication.factor and transaction.state.log.min.isr to what they can hold");
        }
        if (!guarantee.equals("exactly_once_v2")) {
            throw new InvalidConfigException(describe("processing-guarantee")
                + " must be exactly_once_v2, got '" + guarantee + "'");
        }
        if (values.containsKey("streams-config.processing.guarantee")) {
            throw new InvalidConfigException(describe("streams-config.processing.guarantee") + " would override "
                + "processing-guarantee, which must stay exactly_once_v2: remove it");
        }
        values.keySet().stream().sorted().forEach(this::checkKnown);
        defaults().keySet().forEach(this::checkParses);
        List.of("embedded.port", "http.port").forEach(this::port);
        List.of("http.forward-timeout", "webhook.ack-timeout", "export.request-timeout").forEach(this::timeout);
        rocksDbMemtableBytes();
        HttpBinding.validate(this);
        validateWebhook();
    }

    /** What would make the webhook fail every call, or every call it splits. */
    private void validateWebhook() {
        if (webhookAckTimeout().compareTo(MAX_WEBHOOK_ACK_TIMEOUT) > 0) {
            throw new InvalidConfigException(describe("webhook.ack-timeout") + " is over "
                + MAX_WEBHOOK_ACK_TIMEOUT.toSeconds() + "s: Amplitude gives up on a call after 1-2 s, and a split "
                + "batch's transaction would outlast the brokers' transaction.max.timeout.ms");
        }
        if (values.containsKey("kafka.transactional.id")) {
            throw new InvalidConfigException(describe("kafka.transactional.id") + " cannot be set: the webhook's "
                + "producer is not transactional, and its split batches and Kafka Streams choose their own ids");
        }
    }

    /**
     * A misspelt key would otherwise be ignored (or, under {@code kafka.}, handed to the clients, which ignore it):
     * every key must be a cohort-sync setting, a Kafka client setting under {@code kafka.}, or anything under
     * {@code streams-config.} (Kafka Streams checks those). Accounts come only from the file's {@code accounts}
     * section, so an {@code accounts} key here (a flag) would be ignored.
     */
    private void checkKnown(final String key) {
        if (defaults().containsKey(key) || key.startsWith("streams-config.")) {
            return;
        }
        if (key.equals("accounts") || key.startsWith("accounts.")) {
            throw new InvalidConfigException(describe(key) + " cannot be set here: accounts are configured only in "
                + "the accounts section of the config file (--config FILE)");
        }
        if (key.startsWith("kafka.")) {
            checkKafkaClientKey(key);
            return;
        }
        throw new InvalidConfigException("unknown setting " + describe(key)
            + KeySuggestions.suggestion(key, defaults().keySet()));
    }

    private void checkKafkaClientKey(final String key) {
        if (key.equals("kafka.bootstrap.servers")) {
            // The clients' bootstrap.servers is always set from kafka.bootstrap-servers, which would silently win.
            throw new InvalidConfigException(describe(key) + " is not used: cohort-sync gives its clients "
                + "kafka.bootstrap-servers (with a dash); set that instead");
        }
        if (!KnownKeys.KAFKA_CLIENT_SETTINGS.contains(key.substring("kafka.".length()))) {
            throw new InvalidConfigException("unknown setting " + describe(key) + ": not a Kafka client setting"
                + KeySuggestions.suggestion(key, KnownKeys.kafkaKeys(defaults().keySet())));
        }
    }

    private void checkParses(final String key) {
        final Map<String, String> defaults = defaults();
        final String defaultValue = defaults.get(key);
        if (defaultValue.matches("\\d+")) {
            nonNegativeInt(key);
        } else if (defaultValue.equals("true") || defaultValue.equals("false")) {
            bool(key);
        } else if (DURATION.matcher(defaultValue).matches()) {
            duration(key);
        }
    }

    private String string(final String key) {
        return values.getOrDefault(key, "").trim();
    }

    private boolean bool(final String key) {
        final String value = string(key).toLowerCase(Locale.ROOT);
        if (!value.equals("true") && !value.equals("false")) {
            throw new InvalidConfigException(describe(key) + " must be true or false, got '" + value + "'");
        }
        return Boolean.parseBoolean(value);
    }

    private int positiveInt(final String key) {
        final int value = nonNegativeInt(key);
        if (value == 0) {
            throw new InvalidConfigException(describe(key) + " must be greater than 0");
        }
        return value;
    }

    private int nonNegativeInt(final String key) {
        try {
            final int value = Integer.parseInt(string(key));
            if (value < 0) {
                throw new NumberFormatException();
            }
            return value;
        } catch (final NumberFormatException e) {
            throw new InvalidConfigException(describe(key) + " must be a whole number >= 0, got '" + string(key) + "'");
        }
    }

    private Duration duration(final String key) {
        final String raw = string(key).toLowerCase(Locale.ROOT);
        final Matcher matcher = DURATION.matcher(raw);
        if (!matcher.matches()) {
            throw new InvalidConfigException(describe(key) + " must be a duration such as 500ms, 30s, 5m, 2h or 7d, got '"
                + raw + "'");
        }
        try {
            final long amount = Long.parseLong(matcher.group(1));
            final Duration value = switch (matcher.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                default -> Duration.ofDays(amount);
            };
            value.toMillis(); // throws ArithmeticException past what milliseconds in a long can hold
            return value;
        } catch (final NumberFormatException | ArithmeticException e) {
            throw new InvalidConfigException(describe(key) + " is too long to be a duration, got '" + raw + "'");
        }
    }

    /** A wait the clients take in milliseconds as an int: more than 0 and at most {@link #MAX_TIMEOUT}. */
    private Duration timeout(final String key) {
        final Duration value = duration(key);
        if (value.isZero() || value.compareTo(MAX_TIMEOUT) > 0) {
            throw new InvalidConfigException(describe(key) + " must be more than 0 and at most 1h, got '"
                + string(key) + "'");
        }
        return value;
    }

    private int port(final String key) {
        final int value = nonNegativeInt(key);
        if (value > 65_535) {
            throw new InvalidConfigException(describe(key) + " must be a port from 0 to 65535 (0: any free port), got "
                + value);
        }
        return value;
    }

    /** Reads the {@code accounts} section: a mapping from account id to that account's settings. */
    static final class AccountsParser {
        private AccountsParser() {
        }

        static Map<String, AccountSettings> parse(final JsonNode node) {
            final Map<String, AccountSettings> out = new LinkedHashMap<>();
            if (node == null || node.isNull()) {
                return out;
            }
            if (!node.isObject()) {
                throw new InvalidConfigException("accounts must be a mapping from account id to its settings");
            }
            node.fields().forEachRemaining(entry -> out.put(entry.getKey(), account(entry.getKey(), entry.getValue())));
            return Map.copyOf(out);
        }

        private static AccountSettings account(final String accountId, final JsonNode node) {
            if (accountId.isBlank() || accountId.contains("|")) {
                throw new InvalidConfigException("account id '" + accountId + "' must be non-blank and contain no '|'");
            }
            allowOnly(node, "accounts." + accountId, List.of("import", "webhook", "export"));
            return new AccountSettings(accountId, importSettings(accountId, node.path("import")),
                WebhookSettings.parse(accountId, node.path("webhook")),
                io.cohortsync.export.ExportSettingsParser.parse(accountId, node.path("export")));
        }

        private static ImportSettings importSettings(final String accountId, final JsonNode node) {
            if (node.isMissingNode() || node.isNull()) {
                return ImportSettings.defaults();
            }
            final String where = "accounts." + accountId + ".import";
            allowOnly(node, where, List.of("policy", "identity", "anonymous-id", "identifiers"));
            final ImportPolicy policy = policy(where, node.path("policy").asText("CREATE_UNMATCHED"));
            final IdentifierField identity = field(node.path("identity"));
            final IdentifierField anonymous = field(node.path("anonymous-id"));
            final List<IdentifierField> identifiers = new java.util.ArrayList<>();
            node.path("identifiers").forEach(item -> identifiers.add(IdentifierField.parse(item.asText())));
            return new ImportSettings(policy, identity, anonymous, identifiers).validate(accountId);
        }

        private static ImportPolicy policy(final String where, final String raw) {
            try {
                return ImportPolicy.valueOf(raw.trim().toUpperCase(Locale.ROOT));
            } catch (final IllegalArgumentException e) {
                throw new InvalidConfigException(where + ".policy must be CREATE_UNMATCHED or MATCH_ONLY, got '" + raw + "'");
            }
        }

        private static IdentifierField field(final JsonNode node) {
            return node.isMissingNode() || node.isNull() ? null : IdentifierField.parse(node.asText());
        }

        private static void allowOnly(final JsonNode node, final String where, final List<String> allowed) {
            if (!node.isObject()) {
                throw new InvalidConfigException(where + " must be a mapping");
            }
            node.fieldNames().forEachRemaining(name -> {
                if (!allowed.contains(name)) {
                    throw new InvalidConfigException("unknown setting " + where + "." + name + " (known: " + allowed + ")");
                }
            });
        }
    }
}
