package io.cohortsync.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.cohortsync.serde.KeySuggestions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Settings merged in a fixed order, later layers winning: built-in defaults, the YAML file, the environment
 * ({@code COHORT_SYNC_<KEY>} with dots and dashes as underscores), then command-line flags. Each value remembers
 * the layer it came from so an error can say where to fix it.
 */
public final class ConfigLayers {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    private static final String ENV_PREFIX = "COHORT_SYNC_";
    /** Variables of that prefix that are not settings: the config file's path, and logback.xml's log level. */
    private static final Set<String> NOT_KEYS = Set.of(ENV_PREFIX + "CONFIG", ENV_PREFIX + "LOG_LEVEL");
    /**
     * What Kubernetes puts in every pod's environment for a Service named {@code cohort-sync} (or
     * {@code cohort-sync-<x>}): {@code COHORT_SYNC_SERVICE_HOST}, {@code COHORT_SYNC_PORT_8080_TCP_ADDR} and so on.
     * They are not settings, and refusing them would stop the service from starting next to its own Service. The
     * service-name part is reluctant: {@code COHORT_SYNC_PORT_8080_TCP_PORT} is Service cohort-sync's port link, not
     * the bare {@code _PORT} of a Service named cohort-sync-port-8080-tcp.
     */
    private static final Pattern SERVICE_LINK = Pattern.compile(
        "COHORT_SYNC(_[A-Z0-9_]+?)??_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)");

    /**
     * The value Kubernetes gives a service link's {@code <SERVICE>_PORT}: {@code tcp://<ip>:<port>}. A Service named
     * {@code cohort-sync-http} sets {@code COHORT_SYNC_HTTP_PORT} so, which is also http.port's variable; no setting's
     * value looks like that.
     */
    private static final Pattern SERVICE_LINK_VALUE = Pattern.compile("(tcp|udp|sctp)://\\S+");

    private final Map<String, String> values = new LinkedHashMap<>();
    /** The variables the file's placeholders name, so a file may take its values from COHORT_SYNC_ variables. */
    private final Set<String> referenced = new HashSet<>();
    private final Map<String, String> sources = new LinkedHashMap<>();
    private JsonNode accounts;
    private final Function<String, String> environment;

    private ConfigLayers(final Function<String, String> environment) {
        this.environment = environment;
    }

    public static ConfigLayers withDefaults(final Map<String, String> defaults, final Function<String, String> env) {
        final ConfigLayers layers = new ConfigLayers(env);
        defaults.forEach((key, value) -> layers.put(key, value, "default"));
        return layers;
    }

    /** Adds the YAML file: every key but {@code accounts} is flattened to dotted keys. */
    public ConfigLayers file(final Path path) {
        if (!Files.isRegularFile(path)) {
            throw new InvalidConfigException("config file " + path.toAbsolutePath() + " does not exist");
        }
        try (InputStream in = Files.newInputStream(path)) {
            return yaml(in, "file " + path);
        } catch (final IOException e) {
            throw new InvalidConfigException("cannot read config file " + path + ": " + e.getMessage(), e);
        }
    }

    public ConfigLayers yaml(final InputStream in, final String sourceName) {
        final JsonNode root;
        try {
            final String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            PLACEHOLDER.matcher(text).results().forEach(placeholder -> referenced.add(placeholder.group(1)));
            root = YAML.readTree(text);
        } catch (final IOException e) {
            throw new InvalidConfigException("config " + sourceName + " is not valid YAML: " + e.getMessage(), e);
        }
        if (root == null || root.isNull() || root.isMissingNode()) {
            return this;
        }
        if (!root.isObject()) {
            throw new InvalidConfigException("config " + sourceName + " must be a YAML mapping of settings");
        }
        root.fields().forEachRemaining(field -> {
            if ("accounts".equals(field.getKey())) {
                accounts = field.getValue();
            } else {
                flatten(field.getKey(), field.getValue(), sourceName);
            }
        });
        return this;
    }

    /** Applies {@code COHORT_SYNC_*} variables for every key known so far (defaults define the known keys). */
    public ConfigLayers environment() {
        for (final String key : Map.copyOf(values).keySet()) {
            final String name = envName(key);
            final String value = environment.apply(name);
            if (value != null && !serviceLink(name, value)) {
                put(key, value, "environment " + name);
            }
        }
        return this;
    }

    /**
     * Applies the environment, then refuses a {@code COHORT_SYNC_} variable among {@code names} that stands for no
     * key: a misspelt one (say {@code COHORT_SYNC_STREAMS_STANDBY_REPLICA}) would otherwise be ignored without a word.
     * The variables that are not keys ({@link #NOT_KEYS}), Kubernetes' service links ({@link #SERVICE_LINK}) and
     * those the file's {@code ${...}} placeholders name pass.
     */
    public ConfigLayers environment(final Collection<String> names) {
        environment();
        final Set<String> known = new HashSet<>(NOT_KEYS);
        known.addAll(referenced);
        values.keySet().forEach(key -> known.add(envName(key)));
        names.stream().filter(name -> name.startsWith(ENV_PREFIX) && !known.contains(name))
            .filter(name -> !namedLikeAServiceLink(name, environment.apply(name))).sorted().findFirst()
            .ifPresent(name -> {
                throw unknownVariable(name, known);
            });
        return this;
    }

    /**
     * Whether a variable that is no setting's is one of Kubernetes' service links. A bare {@code <SERVICE>_PORT} must
     * have a link's value as well: a misspelt setting's variable can end in {@code _PORT} too
     * ({@code COHORT_SYNC_EMBEDED_PORT}), while the other link names are distinctive.
     */
    private static boolean namedLikeAServiceLink(final String name, final String value) {
        final Matcher link = SERVICE_LINK.matcher(name);
        return link.matches() && (!"PORT".equals(link.group(2))
            || value != null && SERVICE_LINK_VALUE.matcher(value).matches());
    }

    /** Whether the variable is a Kubernetes service link, though its name is also a setting's variable. */
    private static boolean serviceLink(final String name, final String value) {
        return SERVICE_LINK.matcher(name).matches() && SERVICE_LINK_VALUE.matcher(value).matches();
    }

    private static InvalidConfigException unknownVariable(final String name, final Set<String> known) {
        if (name.startsWith(ENV_PREFIX + "KAFKA_") || name.startsWith(ENV_PREFIX + "STREAMS_CONFIG_")) {
            return new InvalidConfigException("environment variable " + name + " is not a cohort-sync setting: the "
                + "kafka.<setting> and streams-config.<setting> keys have no environment variable (an underscore could "
                + "stand for a dot or a dash). Set them in the config file, where ${VAR} takes a value from the "
                + "environment, or with --set");
        }
        return new InvalidConfigException("environment variable " + name + " is not a cohort-sync setting"
            + KeySuggestions.suggestion(name, known));
    }

    public ConfigLayers flag(final String key, final String value, final String flagName) {
        if (value != null) {
            put(key, value, "flag " + flagName);
        }
        return this;
    }

    public static String envName(final String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    public Map<String, String> values() {
        return Map.copyOf(values);
    }

    public String source(final String key) {
        return sources.getOrDefault(key, "unset");
    }

    public JsonNode accounts() {
        return accounts;
    }

    /** Expands {@code ${VAR}} and {@code ${VAR:-default}} from the environment; a missing variable is an error. */
    String expand(final String raw, final String sourceName) {
        final Matcher matcher = PLACEHOLDER.matcher(raw);
        final StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            final String value = environment.apply(matcher.group(1));
            final String replacement = value != null ? value : matcher.group(2);
            if (replacement == null) {
                throw new InvalidConfigException(sourceName + " refers to environment variable ${" + matcher.group(1)
                    + "}, which is not set");
            }
            matcher.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    private void flatten(final String prefix, final JsonNode node, final String sourceName) {
        if (node.isObject()) {
            final Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                final Map.Entry<String, JsonNode> field = fields.next();
                flatten(prefix + "." + field.getKey(), field.getValue(), sourceName);
            }
        } else if (node.isArray()) {
            final StringBuilder joined = new StringBuilder();
            node.forEach(item -> joined.append(joined.length() == 0 ? "" : ",").append(item.asText()));
            put(prefix, joined.toString(), sourceName);
        } else if (!node.isNull()) {
            put(prefix, expand(node.asText(), sourceName + " key " + prefix), sourceName);
        }
    }

    private void put(final String key, final String value, final String source) {
        values.put(key, value);
        sources.put(key, source);
    }
}
