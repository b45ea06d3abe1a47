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
 * Schema-registry settings of the serde, read from Kafka-style serde configs (the same keys as Confluent's).
 * Credentials are kept out of {@link #toString()}, {@link #urls()} and every exception message.
 */
public final class SchemaRegistryConfig {

    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
    public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";
    public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
    public static final String REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";
    public static final String CONNECT_TIMEOUT_MS = "schema.registry.connect.timeout.ms";
    /** Deserializer without a reader class or schema: read into generated classes found by the writer's name. */
    public static final String SPECIFIC_AVRO_READER = "specific.avro.reader";

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
        this.rawUrls = parseUrls(configs.get(SCHEMA_REGISTRY_URL));
        this.autoRegisterSchemas = autoRegisterSchemas(configs);
        this.userInfo = stringOrNull(configs.get(BASIC_AUTH_USER_INFO));
        this.credentialsSource = credentialsSource(configs.get(BASIC_AUTH_CREDENTIALS_SOURCE), userInfo);
        this.requestTimeout = millis(configs, REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT);
        this.connectTimeout = millis(configs, CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT);
        validateUrls();
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
                throw new ConfigException("Invalid '" + SCHEMA_REGISTRY_URL + "' entry " + Urls.redact(url)
                        + ": expected http(s)://host[:port][/path] or mock://<scope>");
            }
        } catch (final URISyntaxException e) {
            // The parser's message quotes the input, which may hold a password: leave it out.
            throw new ConfigException("Invalid '" + SCHEMA_REGISTRY_URL + "' entry " + Urls.redact(url)
                    + ": not a valid URI");
        }
    }

    private static CredentialsSource credentialsSource(final Object value, final String userInfo) {
        final String source = stringOrNull(value);
        if (source == null) {
            // Confluent defaults to URL; with user info given, that would silently ignore it.
            return userInfo != null ? CredentialsSource.USER_INFO : CredentialsSource.URL;
        }
        final CredentialsSource parsed;
        try {
            parsed = CredentialsSource.valueOf(source.trim().toUpperCase(Locale.ROOT));
        } catch (final IllegalArgumentException e) {
            throw new ConfigException(BASIC_AUTH_CREDENTIALS_SOURCE, source,
                    "supported values are USER_INFO, URL and NONE");
        }
        if (parsed == CredentialsSource.USER_INFO && (userInfo == null || !userInfo.contains(":"))) {
            throw new ConfigException("'" + BASIC_AUTH_CREDENTIALS_SOURCE + "' is USER_INFO but '" + BASIC_AUTH_USER_INFO
                    + "' is missing or not of the form user:password");
        }
        return parsed;
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
