package io.cohortsync.http;

import io.cohortsync.avro.SyncType;
import io.cohortsync.config.AccountSettings;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.metrics.CohortSyncMetrics;
import io.cohortsync.runtime.Causes;
import io.cohortsync.topology.Topics;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * cohort-sync's one HTTP port: the Amplitude webhook, the read-only queries, health, metrics and the OpenAPI
 * description ({@code openapi.yaml}, which lists exactly these routes). It starts before Kafka Streams, so the
 * bound port can go into {@code application.server}; queries and readiness answer 503 until {@link #attach}.
 *
 * <p>Security: the webhook authenticates each account by passcode. The queries and {@code /metrics} need
 * {@code Authorization: Bearer <http.token>} when a token is set; without one the server binds to 127.0.0.1 only
 * (the configuration refuses another address). Health and the OpenAPI description are open.
 */
public final class CohortSyncHttpServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CohortSyncHttpServer.class);

    /** One registered route: method and Javalin path (the same syntax as OpenAPI's path templates). */
    public record Route(String method, String path) {
    }

    private final CohortSyncConfig config;
    private final CohortSyncMetrics metrics;
    private final Secrets secrets;
    private final LoopbackHosts loopbackHosts;
    private final RequestProducer producer;
    private final List<Route> routes = Collections.synchronizedList(new ArrayList<>());
    private final Javalin app;
    private volatile KafkaStreams streams;
    private volatile QueryHandlers queries;
    private volatile Supplier<Throwable> exporterFailure = () -> null;

    private CohortSyncHttpServer(final CohortSyncConfig config, final Topics topics, final String bootstrapServers,
                                 final CohortSyncMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.secrets = new Secrets(passcodes(config), config.httpToken());
        this.loopbackHosts = new LoopbackHosts(config.httpHost(), config.httpAdvertisedHost());
        this.producer = new RequestProducer(config, bootstrapServers, topics.requests, metrics.registry());
        final AmplitudeWebhook webhook = new AmplitudeWebhook(secrets, producer, metrics, config.webhookMaxBodyBytes(),
            config.webhookMaxMembersPerRecord(), config.maxMembersPerBatch(), config.maxRecordBytes(),
            SyncType.valueOf(config.webhookDefaultSyncType()));
        this.app = Javalin.create(this::configure);
        registerRoutes(webhook);
    }

    /** Binds {@code http.host:http.port} (port 0 = a free one) and serves; queries wait for {@link #attach}. */
    public static CohortSyncHttpServer start(final CohortSyncConfig config, final Topics topics,
                                             final String bootstrapServers, final CohortSyncMetrics metrics) {
        final CohortSyncHttpServer server = new CohortSyncHttpServer(config, topics, bootstrapServers, metrics);
        try {
            server.app.start(config.httpHost(), config.httpPort());
        } catch (final RuntimeException e) {
            server.producer.close();
            throw new IllegalStateException("cannot serve HTTP on " + config.httpHost() + ":" + config.httpPort()
                + " (" + config.describe("http.port") + "): " + rootMessage(e), e);
        }
        LOG.info("HTTP on {}:{} (application.server {}:{}); queries and /metrics {}", config.httpHost(),
            server.port(), server.advertised().host(), server.port(), config.httpToken().isPresent()
                ? "need the bearer token (http.token)" : "are open, bound to localhost only (no http.token)");
        return server;
    }

    /** Turns on the queries and readiness once Kafka Streams exists (it needs {@link #advertised()} first). */
    public void attach(final KafkaStreams kafkaStreams, final TopologyDescription topology) {
        final StoreLocator locator = new StoreLocator(kafkaStreams, advertised(), topology);
        this.queries = new QueryHandlers(locator, new Forwarder(config.httpToken(), config.httpForwardTimeout()),
            config.accounts().keySet(), config.partitions());
        this.streams = kafkaStreams;
    }

    /**
     * Lets the webhook write to Kafka: call once the topics are checked or created. Until then it answers a retryable
     * 503, so a call that arrives while the service starts cannot create the requests topic with the broker's defaults.
     */
    public void openIngest() {
        producer.open();
    }

    /**
     * Makes liveness follow the Amplitude exporter too: {@code failure} answers the error that stopped its loop, or
     * null. A stopped exporter does not come back on its own, so the process is no longer live.
     */
    public void watchExporter(final Supplier<Throwable> failure) {
        this.exporterFailure = failure;
    }

    public int port() {
        return app.port();
    }

    /** This instance's {@code application.server}: how the other instances reach it. */
    public HostInfo advertised() {
        return new HostInfo(config.httpAdvertisedHost(), port());
    }

    /** The routes Javalin registered (for the OpenAPI check). */
    public List<Route> routes() {
        synchronized (routes) {
            return List.copyOf(routes);
        }
    }

    @Override
    public void close() {
        app.stop();
        producer.close();
    }

    private void configure(final JavalinConfig javalin) {
        javalin.showJavalinBanner = false;
        javalin.startupWatcherEnabled = false;
        javalin.http.prefer405over404 = true;
        javalin.http.maxRequestSize = config.webhookMaxBodyBytes();
        javalin.http.disableCompression();
        // Requests Jetty refuses before any route (bad framing, header syntax or size) get a JSON error too.
        javalin.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
        javalin.events(events -> events.handlerAdded(handler -> {
            if (handler.getHttpMethod().isHttpMethod()) {
                routes.add(new Route(handler.getHttpMethod().name(), handler.getPath()));
            }
        }));
    }

    private void registerRoutes(final AmplitudeWebhook webhook) {
        app.before("/accounts/*", this::requireToken);
        app.before("/metrics", this::requireToken);
        app.post(AmplitudeWebhook.PATH, webhook::handle);
        app.get("/accounts/{accountId}/segments", ctx -> queries().segments(ctx));
        app.get("/accounts/{accountId}/segments/{cohortId}", ctx -> queries().segment(ctx));
        app.get("/accounts/{accountId}/segments/{cohortId}/members", ctx -> queries().members(ctx));
        app.get("/accounts/{accountId}/profiles/{objectId}", ctx -> queries().profile(ctx));
        app.get("/accounts/{accountId}/profiles/{objectId}/segments", ctx -> queries().profileSegments(ctx));
        app.get("/health/live", this::live);
        app.get("/health/ready", this::ready);
        app.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
            .result(metrics.scrape()));
        app.get("/openapi.yaml", ctx -> ctx.contentType("application/yaml").result(openApi()));
        app.exception(HttpError.class, this::httpError);
        app.exception(HttpResponseException.class, (error, ctx) -> {
            if (error.getStatus() == 405) {
                allow(error, ctx);
            }
            httpError(new HttpError(error.getStatus(), javalinMessage(error, ctx), null), ctx);
        });
        app.exception(InvalidStateStoreException.class, (error, ctx) -> httpError(HttpError.unavailable(
            "a state store is not queryable right now (" + error.getMessage() + "); retry shortly"), ctx));
        app.exception(Exception.class, (error, ctx) -> {
            LOG.error("Unexpected error answering {} {}", ctx.method(), ctx.path(), error);
            httpError(new HttpError(500, "internal error: " + error.getClass().getSimpleName(), null), ctx);
        });
    }

    private QueryHandlers queries() {
        final QueryHandlers handlers = queries;
        if (handlers == null) {
            throw HttpError.unavailable("cohort-sync is starting: queries are served once Kafka Streams runs");
        }
        return handlers;
    }

    private void requireToken(final Context ctx) {
        if (!secrets.tokenRequired()) {
            requireLoopbackHost(ctx);
        } else if (!secrets.bearerMatches(ctx.header("Authorization"))) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw HttpError.unauthorized("this endpoint needs Authorization: Bearer <http.token>");
        }
    }

    /**
     * Without a token, the open queries and /metrics answer only requests addressed to this machine by a loopback name,
     * so a web page cannot read them through DNS rebinding ({@link LoopbackHosts}).
     */
    private void requireLoopbackHost(final Context ctx) {
        if (!loopbackHosts.accepts(ctx.header("Host"))) {
            throw HttpError.forbidden("without http.token this endpoint answers only requests whose Host is a loopback "
                + "name (127.0.0.1, localhost, [::1]); set http.token to serve it under another name");
        }
    }

    /** Down once a part that does not restart itself has stopped: Kafka Streams in ERROR, or the exporter. */
    private void live(final Context ctx) {
        final KafkaStreams current = streams;
        final boolean streamsFailed = current != null && current.state() == KafkaStreams.State.ERROR;
        final Throwable exportFailure = exporterFailure.get();
        final boolean up = !streamsFailed && exportFailure == null;
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", up ? "UP" : "DOWN");
        if (streamsFailed) {
            body.put("streams", "ERROR: every stream thread has stopped; see the log");
        }
        if (exportFailure != null) {
            body.put("exporter", "FAILED (" + exportFailure.getClass().getSimpleName() + "); see the log");
        }
        Json.write(ctx, up ? 200 : 503, body);
    }

    private void ready(final Context ctx) {
        final KafkaStreams current = streams;
        final String state = current == null ? "STARTING" : current.state().name();
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", state);
        final boolean running = current != null && current.state() == KafkaStreams.State.RUNNING;
        if (!running) {
            ctx.header("Retry-After", String.valueOf(HttpError.RETRY_AFTER_SECONDS));
        }
        Json.write(ctx, running ? 200 : 503, body);
    }

    private void httpError(final HttpError error, final Context ctx) {
        if (error.retryable()) {
            ctx.header("Retry-After", String.valueOf(HttpError.RETRY_AFTER_SECONDS));
        }
        Json.write(ctx, error.status(), Json.error(error));
    }

    /** RFC 9110: a 405 says which methods the path has. Javalin lists them in the error's details. */
    private static void allow(final HttpResponseException error, final Context ctx) {
        error.getDetails().entrySet().stream()
            .filter(detail -> detail.getKey().replace(" ", "").equalsIgnoreCase("availableMethods"))
            .findFirst()
            .ifPresent(detail -> ctx.header("Allow", detail.getValue()));
    }

    /** The method as sent: Javalin names every method it does not know INVALID. */
    private static String javalinMessage(final HttpResponseException error, final Context ctx) {
        final String method = ctx.req().getMethod();
        return switch (error.getStatus()) {
            case 404 -> "no such endpoint: " + method + " " + ctx.path() + " (see /openapi.yaml)";
            case 405 -> "method " + method + " is not allowed on " + ctx.path() + " (see /openapi.yaml)";
            default -> error.getMessage();
        };
    }

    private static byte[] openApi() {
        try (InputStream in = CohortSyncHttpServer.class.getResourceAsStream("/openapi.yaml")) {
            if (in == null) {
                throw new IllegalStateException("openapi.yaml is missing from the jar");
            }
            return in.readAllBytes();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, List<String>> passcodes(final CohortSyncConfig config) {
        return config.accounts().values().stream().collect(Collectors.toMap(AccountSettings::accountId,
            account -> account.webhook().passcodes()));
    }

    private static String rootMessage(final Throwable error) {
        final List<Throwable> chain = Causes.chain(error);
        return chain.get(chain.size() - 1).getMessage();
    }
}
