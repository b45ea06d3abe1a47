package io.cohortsync.serde;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.ConfigException;

/**
 * Schema-registry settings of the serde, read from Kafka-style serde configs (the same keys as Confluent's, for what
 * it supports). Confluent keys it does not support (other subject name strategies, {@code use.latest.version}, TLS
 * and bearer-token settings) and misspelt registry keys are refused, never silently ignored. Credentials are kept
 * out of {@link #toString()}, {@link #urls()} and every exception message.
 */
public final class SchemaRegistryConfig {

    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
    public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";
    public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
    /** Confluent's older name for {@value #BASIC_AUTH_USER_INFO}, which its serdes still read. */
    public static final String LEGACY_BASIC_AUTH_USER_INFO = "schema.registry.basic.auth.user.info";
    public static final String REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";
    public static final String CONNECT_TIMEOUT_MS = "schema.registry.connect.timeout.ms";
    /** Deserializer without a reader class or schema: read into generated classes found by the writer's name. */
    public static final String SPECIFIC_AVRO_READER = "specific.avro.reader";

    private static final List<String> KNOWN_KEYS = List.of(SCHEMA_REGISTRY_URL, AUTO_REGISTER_SCHEMAS,
            BASIC_AUTH_CREDENTIALS_SOURCE, BASIC_AUTH_USER_INFO, LEGACY_BASIC_AUTH_USER_INFO, REQUEST_TIMEOUT_MS,
            CONNECT_TIMEOUT_MS, SPECIFIC_AVRO_READER);
    /** Prefixes of keys meant for a registry serde: one of them that is not known is a typo or unsupported. */
    private static final List<String> REGISTRY_PREFIXES = List.of("schema.registry.", "basic.auth.", "bearer.auth.",
            "auto.register", "specific.avro");
    private static final String TOPIC_NAME_STRATEGY = "TopicNameStrategy";
    /** Confluent serde settings that change what is written or read, which this serde does not do. */
    private static final List<String> UNSUPPORTED = List.of("use.schema.id", "specific.avro.key.type",
            "specific.avro.value.type");
    private static final List<String> UNSUPPORTED_WHEN_TRUE = List.of("normalize.schemas", "schema.reflection");

    public static final String MOCK_URL_PREFIX = "mock://";
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

    /** Where HTTP basic-auth credentials come from. */
    public enum CredentialsSource {
        /** No basic auth. */
        NONE,
        /** {@value #BASIC_AUTH_USER_INFO} as {@code user:password}. */
        USER_INFO,
        /** The {@code user:password@} part of each registry URL. */
        URL
    }

    private final List<String> rawUrls;
    private final boolean autoRegisterSchemas;
    private final CredentialsSource credentialsSource;
    private final String userInfo;
    private final Duration requestTimeout;
    private final Duration connectTimeout;

    public SchemaRegistryConfig(final Map<String, ?> configs) {
        requireSupportedKeys(configs);
        this.rawUrls = parseUrls(configs.get(SCHEMA_REGISTRY_URL));
        this.autoRegisterSchemas = autoRegisterSchemas(configs);
        final String current = stringOrNull(configs.get(BASIC_AUTH_USER_INFO));
        this.userInfo = current != null ? current : stringOrNull(configs.get(LEGACY_BASIC_AUTH_USER_INFO));
        this.credentialsSource = credentialsSource(configs.get(BASIC_AUTH_CREDENTIALS_SOURCE), this.userInfo);
        this.requestTimeout = millis(configs, REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT);
        this.connectTimeout = millis(configs, CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT);
        validateUrls();
    }

    /**
     * Refuses what Confluent's serdes would honour and this one cannot, so that it is never silently ignored, and
     * keys in the registry's namespaces that nothing reads (a typo), naming the nearest known key if one is close.
     */
    static void requireSupportedKeys(final Map<String, ?> configs) {
        for (final Map.Entry<String, ?> entry : configs.entrySet()) {
            final String key = entry.getKey();
            final Object value = entry.getValue();
            if (KNOWN_KEYS.contains(key) || value == null) {
                continue;
            }
            if (key.endsWith("subject.name.strategy")) {
                if (!value.toString().endsWith(TOPIC_NAME_STRATEGY)) {
                    throw new ConfigException(key, value, "only TopicNameStrategy (subjects <topic>-key and "
                            + "<topic>-value) is supported");
                }
            } else if (key.equals("use.latest.version")) {
                if (bool(configs, key, false)) {
                    throw new ConfigException(key, value, "not supported: records are written with the schema of "
                            + "the record itself, registered or looked up under its subject");
                }
            } else if (key.startsWith("schema.registry.ssl.")) {
                throw new ConfigException(key, "(hidden)", "not supported. The client uses the JVM's TLS settings: "
                        + "give a private CA with -Djavax.net.ssl.trustStore=<file> "
                        + "-Djavax.net.ssl.trustStorePassword=<password>");
            } else if (UNSUPPORTED.contains(key) || key.startsWith("schema.registry.proxy.")
                    || (UNSUPPORTED_WHEN_TRUE.contains(key) && bool(configs, key, false))) {
                throw new ConfigException(key, value, "a Confluent serde setting this serde does not support");
            } else if (key.startsWith("bearer.auth.")) {
                throw new ConfigException(key, "(hidden)", "not supported: the client authenticates with HTTP basic "
                        + "auth only (" + BASIC_AUTH_USER_INFO + " or user:password@ in the URL)");
            } else if (REGISTRY_PREFIXES.stream().anyMatch(key::startsWith)) {
                throw new ConfigException(key, "(hidden)", "unknown schema registry setting"
                        + KeySuggestions.suggestion(key, KNOWN_KEYS));
            }
        }
    }

    /** {@value #AUTO_REGISTER_SCHEMAS} alone, for serdes given a ready client (no URL needed then). */
    static boolean autoRegisterSchemas(final Map<String, ?> configs) {
        return bool(configs, AUTO_REGISTER_SCHEMAS, true);
    }

    static boolean specificAvroReader(final Map<String, ?> configs) {
        return bool(configs, SPECIFIC_AVRO_READER, false);
    }

    /** The registry URLs with any {@code user:password@} removed. */
    public List<String> urls() {
        return rawUrls.stream().map(Urls::redact).collect(Collectors.toUnmodifiableList());
    }

    public boolean autoRegisterSchemas() {
        return autoRegisterSchemas;
    }

    public CredentialsSource credentialsSource() {
        return credentialsSource;
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** The scope of an in-memory registry when the URL is {@code mock://<scope>}. */
    public Optional<String> mockScope() {
        final String first = rawUrls.get(0);
        return first.startsWith(MOCK_URL_PREFIX)
                ? Optional.of(first.substring(MOCK_URL_PREFIX.length()))
                : Optional.empty();
    }

    /** URLs as configured, credentials included: only for building requests. */
    List<String> rawUrls() {
        return rawUrls;
    }

    /** The {@code Authorization} header value for a request to {@code rawUrl}, if basic auth applies. */
    Optional<String> authorizationHeader(final String rawUrl) {
        switch (credentialsSource) {
            case USER_INFO:
                return Optional.of(basic(userInfo));
            case URL:
                return Optional.ofNullable(URI.create(rawUrl).getRawUserInfo())
                        .map(info -> URLDecoder.decode(info, StandardCharsets.UTF_8))
                        .map(SchemaRegistryConfig::basic);
            default:
                return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return "SchemaRegistryConfig{urls=" + urls()
                + ", autoRegisterSchemas=" + autoRegisterSchemas
                + ", basicAuth=" + credentialsSource + (credentialsSource == CredentialsSource.NONE ? "" : "(hidden)")
                + ", requestTimeout=" + requestTimeout
                + ", connectTimeout=" + connectTimeout + '}';
    }

    private static String basic(final String userInfo) {
        return "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> parseUrls(final Object value) {
        final List<String> urls = splitList(value);
        if (urls.isEmpty()) {
            throw new ConfigException("Missing required configuration '" + SCHEMA_REGISTRY_URL
                    + "': the Confluent-compatible schema registry's base URL(s), comma-separated, e.g. "
                    + "http://registry:8081 (or mock://<scope> for an in-memory registry in tests)");
        }
        return urls;
    }

    private static List<String> splitList(final Object value) {
        if (value == null) {
            return List.of();
        }
        final Collection<?> items = value instanceof Collection<?> c ? c : Arrays.asList(value.toString().split(","));
        return items.stream()
                .map(item -> item.toString().trim())
                .filter(item -> !item.isEmpty())
                .map(item -> item.endsWith("/") ? item.substring(0, item.length() - 1) : item)
                .collect(Collectors.toUnmodifiableList());
    }

    private void validateUrls() {
        final boolean anyMock = rawUrls.stream().anyMatch(url -> url.startsWith(MOCK_URL_PREFIX));
        if (anyMock && rawUrls.size() > 1) {
            throw new ConfigException("'" + SCHEMA_REGISTRY_URL + "' may hold only one mock:// URL and nothing else; got "
                    + urls());
        }
        if (!anyMock) {
            rawUrls.forEach(SchemaRegistryConfig::validateHttpUrl);
        }
    }

    private static void validateHttpUrl(final String url) {
        try {
            final URI uri = new URI(url);
            final String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                throw new ConfigException("Invalid '" + SCHEMA_REGISTRY_URL + "' entry " + Urls.redactInvalid(url)
                        + ": expected http(s)://host[:port][/path] or mock://<scope>");
            }
            final int authorityEnd = url.indexOf(uri.getRawAuthority()) + uri.getRawAuthority().length();
            if (url.indexOf('@', authorityEnd) >= 0) {
                // "https://key:123/abc@host" parses as host "key", port 123 and the path "/abc@host": the password
                // would end up in the URL the client calls and reports.
                throw new ConfigException("Invalid '" + SCHEMA_REGISTRY_URL + "' entry " + Urls.redactInvalid(url)
                        + ": an '@' after the host; a password holding '/', '?' or '#' must be percent-encoded");
            }
        } catch (final URISyntaxException e) {
            // The parser's message quotes the input, which may hold a password: leave it out.
            throw new ConfigException("Invalid '" + SCHEMA_REGISTRY_URL + "' entry " + Urls.redactInvalid(url)
                    + ": not a valid URI");
        }
    }

    private static CredentialsSource credentialsSource(final Object value, final String userInfo) {
        final String source = stringOrNull(value);
        if (source == null) {
            // Confluent defaults to URL; with user info given, that would silently ignore it.
            if (userInfo == null) {
                return CredentialsSource.URL;
            }
            requireUserAndPassword(userInfo, "");
            return CredentialsSource.USER_INFO;
        }
        final CredentialsSource parsed;
        try {
            parsed = CredentialsSource.valueOf(source.trim().toUpperCase(Locale.ROOT));
        } catch (final IllegalArgumentException e) {
            throw new ConfigException(BASIC_AUTH_CREDENTIALS_SOURCE, source,
                    "supported values are USER_INFO, URL and NONE");
        }
        if (parsed == CredentialsSource.USER_INFO) {
            requireUserAndPassword(userInfo, "'" + BASIC_AUTH_CREDENTIALS_SOURCE + "' is USER_INFO but ");
        }
        return parsed;
    }

    private static void requireUserAndPassword(final String userInfo, final String context) {
        if (userInfo == null || !userInfo.contains(":")) {
            throw new ConfigException(context + "'" + BASIC_AUTH_USER_INFO
                    + "' is missing or not of the form user:password");
        }
    }

    private static Duration millis(final Map<String, ?> configs, final String key, final Duration fallback) {
        final Object value = configs.get(key);
        if (value == null) {
            return fallback;
        }
        final long ms;
        try {
            ms = value instanceof Number n ? n.longValue() : Long.parseLong(value.toString().trim());
        } catch (final NumberFormatException e) {
            throw new ConfigException(key, value, "expected a number of milliseconds");
        }
        if (ms <= 0) {
            throw new ConfigException(key, value, "must be positive");
        }
        return Duration.ofMillis(ms);
    }

    private static boolean bool(final Map<String, ?> configs, final String key, final boolean fallback) {
        final Object value = configs.get(key);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        final String text = value.toString().trim().toLowerCase(Locale.ROOT);
        if (!text.equals("true") && !text.equals("false")) {
            throw new ConfigException(key, value, "expected true or false");
        }
        return Boolean.parseBoolean(text);
    }

    private static String stringOrNull(final Object value) {
        if (value == null) {
            return null;
        }
        // Kafka's Password type hides itself in toString(); value() is the secret.
        final String text = value instanceof org.apache.kafka.common.config.types.Password p ? p.value() : value.toString();
        return text.isBlank() ? null : text;
    }
}
