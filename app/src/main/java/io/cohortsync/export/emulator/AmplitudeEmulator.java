package io.cohortsync.export.emulator;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * <b>Test support</b> (in main code so the {@code bench-export} command can use it): a local stand-in for Amplitude's
 * upload endpoints, {@code POST /2/httpapi} and {@code POST /batch}, on 127.0.0.1, enforcing the documented contract
 * (reference: partner-apis.md sections 1-2):
 * <ul>
 *   <li>413 {@code Payload too large} over 2000 events or the byte limit (1 MB on /2/httpapi, 20 MB on /batch);</li>
 *   <li>400 for a missing or wrong API key ({@code Invalid API key}; 401 if so configured), a missing
 *   {@code events}, bad JSON, and events Amplitude refuses, listed in {@code events_with_invalid_fields} /
 *   {@code events_with_missing_fields} (no event_type, no id, an id on the invalid list, a string over 1024
 *   characters, a non-numeric time; ids shorter than {@code min_id_length} are dropped first, as Amplitude does);</li>
 *   <li>429 with {@code throttled_users} / {@code throttled_devices} / {@code throttled_events} when an id would go over
 *   its events per second (over the last second; off when the threshold is 0);</li>
 *   <li>insert_id dedup per API key; a rejected request ingests nothing;</li>
 *   <li>injectable {@link Faults}: random 5xx (500/502/504 may have ingested first, as Amplitude warns; 503 never),
 *   429, 413, timeouts and slow answers;</li>
 *   <li>an {@linkplain #startOutage outage}: every request answered with one status (503: Amplitude is down and
 *   ingests nothing) until {@link #endOutage()}, the events refused meanwhile kept for comparison.</li>
 * </ul>
 * It records what it accepted, in order, so tests can compare; {@link #stats()} has counts for benchmarks.
 */
public final class AmplitudeEmulator implements AutoCloseable {

    public static final String HTTP_V2_PATH = "/2/httpapi";
    public static final String BATCH_PATH = "/batch";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> INVALID_IDS = Set.of("anonymous", "nil", "none", "null", "n/a", "na",
        "undefined", "unknown", "", "00000000-0000-0000-0000-000000000000", "{}", "lmy47d", "0", "-1");
    private static final int MAX_STRING = 1024;

    /**
     * What the emulator enforces.
     *
     * @param apiKeys          keys it accepts; any other gets {@code Invalid API key}
     * @param invalidKeyStatus 400 (what Amplitude documents) or 401
     * @param maxEvents        events per request (2000)
     * @param httpV2MaxBytes   bytes per /2/httpapi request
     * @param batchMaxBytes    bytes per /batch request
     * @param epsThreshold     events per id in the last second before 429; 0 = no throttling
     * @param record           keep every accepted event (tests); false keeps counts and the dedup set only
     * @param firewallBlocks   a request whose body contains this text is answered 403, as Amplitude's firewall
     *                         answers "bad header/body/URI values"; null blocks nothing
     * @param misnumbers       a request whose body contains this text is answered 400 naming an invalid field of an
     *                         event index the request does not have; null: none is
     */
    public record Options(Set<String> apiKeys, int invalidKeyStatus, int maxEvents, int httpV2MaxBytes,
                          int batchMaxBytes, int epsThreshold, boolean record, String firewallBlocks,
                          String misnumbers) {

        public static Options accepting(final String... apiKeys) {
            return new Options(Set.of(apiKeys), 400, 2000, 1_000_000, 20_000_000, 0, true, null, null);
        }

        public Options withEpsThreshold(final int threshold) {
            return new Options(apiKeys, invalidKeyStatus, maxEvents, httpV2MaxBytes, batchMaxBytes, threshold, record,
                firewallBlocks, misnumbers);
        }

        public Options withInvalidKeyStatus(final int status) {
            return new Options(apiKeys, status, maxEvents, httpV2MaxBytes, batchMaxBytes, epsThreshold, record,
                firewallBlocks, misnumbers);
        }

        public Options withoutRecording() {
            return new Options(apiKeys, invalidKeyStatus, maxEvents, httpV2MaxBytes, batchMaxBytes, epsThreshold,
                false, firewallBlocks, misnumbers);
        }

        public Options withFirewallBlocking(final String text) {
            return new Options(apiKeys, invalidKeyStatus, maxEvents, httpV2MaxBytes, batchMaxBytes, epsThreshold,
                record, text, misnumbers);
        }

        public Options withMisnumbered400For(final String text) {
            return new Options(apiKeys, invalidKeyStatus, maxEvents, httpV2MaxBytes, batchMaxBytes, epsThreshold,
                record, firewallBlocks, text);
        }
    }

    /**
     * Random faults, each a probability per request, decided before the request is looked at.
     *
     * @param serverError   answer 500, 502, 503 or 504
     * @param ambiguous     of those 5xx (not 503) and timeouts: the share that ingested the events first
     * @param throttle      answer 429 naming one or two of the request's ids
     * @param tooLarge      answer 413 (only to requests with more than one event)
     * @param timeout       hold the answer for {@code timeoutHoldMillis} (longer than the client waits)
     * @param slowMillis    delay every answer by this much
     * @param timeoutHoldMillis how long a timed-out answer is held
     * @param seed          random seed
     */
    public record Faults(double serverError, double ambiguous, double throttle, double tooLarge, double timeout,
                         long slowMillis, long timeoutHoldMillis, long seed) {

        public static Faults none() {
            return new Faults(0, 0, 0, 0, 0, 0, 0, 1);
        }

        public Faults withSlowMillis(final long millis) {
            return new Faults(serverError, ambiguous, throttle, tooLarge, timeout, millis, timeoutHoldMillis, seed);
        }
    }

    /** One event as Amplitude stored it. {@code sequence} orders all accepted events. */
    public record Accepted(long sequence, String apiKey, String path, String eventType, String userId,
                           String deviceId, long time, String insertId, Map<String, String> eventProperties) {
    }

    /** Counters since start. */
    public record Stats(long requests, long accepted, long duplicates, long requestBytes, long acceptedRequests,
                        long acceptedRequestBytes, long acceptedRequestEvents, Map<Integer, Long> statuses) {
    }

    private final Options options;
    private final HttpServer server;
    private final ExecutorService executor;
    private final Object lock = new Object();
    private final Map<String, Set<String>> insertIds = new HashMap<>();
    private final List<Accepted> accepted = new ArrayList<>();
    private final List<Accepted> duplicates = new ArrayList<>();
    private final Map<String, ArrayDeque<long[]>> idWindows = new HashMap<>();
    private final Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong requestBytes = new AtomicLong();
    private long acceptedCount;
    private long duplicateCount;
    private long acceptedRequests;
    private long acceptedRequestBytes;
    private long acceptedRequestEvents;
    private final java.util.concurrent.ConcurrentLinkedQueue<Integer> script =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile Faults faults = Faults.none();
    private volatile Random random = new Random(1);
    private final List<Accepted> refused = new ArrayList<>();
    private volatile int outageStatus;

    private AmplitudeEmulator(final Options options, final HttpServer server, final ExecutorService executor) {
        this.options = options;
        this.server = server;
        this.executor = executor;
    }

    public static AmplitudeEmulator start(final Options options) {
        try {
            final HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
            final ExecutorService executor = Executors.newCachedThreadPool(runnable -> {
                final Thread thread = new Thread(runnable, "amplitude-emulator");
                thread.setDaemon(true);
                return thread;
            });
            final AmplitudeEmulator emulator = new AmplitudeEmulator(options, server, executor);
            server.createContext("/", emulator::handle);
            server.setExecutor(executor);
            server.start();
            return emulator;
        } catch (final IOException e) {
            throw new IllegalStateException("cannot start the Amplitude emulator: " + e.getMessage(), e);
        }
    }

    /** The base URL to configure as an account's {@code export.base-url}, e.g. {@code http://127.0.0.1:41234}. */
    public URI baseUrl() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Replaces the fault injection (applies to requests from now on). */
    public void faults(final Faults newFaults) {
        this.random = new Random(newFaults.seed());
        this.faults = newFaults;
    }

    /**
     * Answers the next requests (one each, in order, before any random fault) with these statuses: 500, 502, 503,
     * 504, 413 or 429 as {@link Faults} would produce them, 400 as the silenced-device answer (see
     * {@link #silencedDevice}), or 0 for a timeout. A 413 applies only to a request with more than one event, a 400
     * only to one with two devices or more; otherwise it stays queued for the next one.
     */
    public void scriptNext(final int... statuses) {
        for (final int status : statuses) {
            script.add(status);
        }
    }

    /**
     * From now on every well-formed request is answered with {@code status} (e.g. 503 {@code Service Unavailable},
     * which Amplitude documents as "not committed") and ingests nothing, until {@link #endOutage()}.
     */
    public void startOutage(final int status) {
        outageStatus = status;
    }

    public void endOutage() {
        outageStatus = 0;
    }

    /** The events of every request refused by an outage, in arrival order (empty when not recording). */
    public List<Accepted> refused() {
        synchronized (lock) {
            return List.copyOf(refused);
        }
    }

    /** Every accepted event, in acceptance order (empty when not recording). */
    public List<Accepted> accepted() {
        synchronized (lock) {
            return List.copyOf(accepted);
        }
    }

    /** Every event dropped because its insert_id was seen before (empty when not recording). */
    public List<Accepted> duplicates() {
        synchronized (lock) {
            return List.copyOf(duplicates);
        }
    }

    public Stats stats() {
        synchronized (lock) {
            final Map<Integer, Long> byStatus = new TreeMap<>();
            statuses.forEach((status, count) -> byStatus.put(status, count.get()));
            return new Stats(requests.get(), acceptedCount, duplicateCount, requestBytes.get(), acceptedRequests,
                acceptedRequestBytes, acceptedRequestEvents, byStatus);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ------------------------------------------------------------------------------------------- handling

    private void handle(final HttpExchange exchange) throws IOException {
        try (exchange) {
            final byte[] body = readBody(exchange.getRequestBody());
            requests.incrementAndGet();
            requestBytes.addAndGet(body.length);
            final Answer answer = answer(exchange, body);
            final Faults current = faults;
            if (current.slowMillis() > 0) {
                sleep(current.slowMillis());
            }
            if (answer.holdMillis() > 0) {
                sleep(answer.holdMillis());
            }
            final byte[] response = answer.body().toString().getBytes(StandardCharsets.UTF_8);
            statuses.computeIfAbsent(answer.status(), s -> new AtomicLong()).incrementAndGet();
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(answer.status(), response.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(response);
            }
        } catch (final IOException e) {
            // The client gave up (a timeout it was meant to hit); nothing to answer.
        }
    }

    private record Answer(int status, ObjectNode body, long holdMillis) {
    }

    /** One event of a request, as far as the contract needs it (parsed by streaming, not as a tree). */
    private record Event(boolean object, String eventType, String userId, String deviceId, boolean timeValid,
                         long time, String insertId, Set<String> tooLong, Map<String, String> properties) {
    }

    /** A parsed request body; {@code events} is null when the field is missing or not an array. */
    private record Request(String apiKey, List<Event> events, int minIdLength) {
    }

    private Answer answer(final HttpExchange exchange, final byte[] body) {
        final String path = exchange.getRequestURI().getPath();
        if (!HTTP_V2_PATH.equals(path) && !BATCH_PATH.equals(path) || !"POST".equals(exchange.getRequestMethod())) {
            return error(400, "Invalid request path");
        }
        final String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return error(400, "Invalid request: Content-Type must be application/json");
        }
        final int maxBytes = BATCH_PATH.equals(path) ? options.batchMaxBytes() : options.httpV2MaxBytes();
        if (body.length > maxBytes) {
            return tooLarge();
        }
        if (body.length == 0) {
            return error(400, "Missing request body");
        }
        if (contains(body, options.firewallBlocks())) {
            return error(403, "Forbidden");
        }
        final Request request;
        try {
            request = parse(body, options.record());
        } catch (final IOException e) {
            return error(400, "Invalid JSON request body");
        }
        if (contains(body, options.misnumbers())) {
            final ObjectNode answer = errorBody(400, "Request missing required field");
            answer.putObject("events_with_invalid_fields").putArray("event_type").add(1_000_000);
            return new Answer(400, answer, 0);
        }
        return answer(path, request, body.length);
    }

    /** Whether the body holds {@code text}; null (the option is off) never matches. */
    private static boolean contains(final byte[] body, final String text) {
        return text != null && new String(body, StandardCharsets.UTF_8).contains(text);
    }

    private Answer answer(final String path, final Request request, final int bytes) {
        final int outage = outageStatus;
        if (outage != 0) {
            if (options.record() && request.events() != null) {
                synchronized (lock) {
                    request.events().forEach(event -> refused.add(toAccepted(-1, request.apiKey(), path, event)));
                }
            }
            return error(outage, outage == 503 ? "Service Unavailable" : "Internal error");
        }
        if (request.apiKey() == null) {
            return missingField("api_key");
        }
        if (!options.apiKeys().contains(request.apiKey())) {
            return error(options.invalidKeyStatus(), "Invalid API key: " + request.apiKey());
        }
        final List<Event> events = request.events();
        if (events == null) {
            return missingField("events");
        }
        if (events.size() > options.maxEvents()) {
            return tooLarge();
        }
        final Answer fault = injectedFault(path, request, bytes);
        if (fault != null) {
            return fault;
        }
        final Answer invalid = validate(events, request.minIdLength());
        if (invalid != null) {
            return invalid;
        }
        synchronized (lock) {
            final Answer throttled = throttle(events, request.minIdLength());
            if (throttled != null) {
                return throttled;
            }
            ingest(path, request, bytes);
        }
        final ObjectNode ok = JSON.createObjectNode();
        ok.put("code", 200);
        ok.put("events_ingested", events.size());
        ok.put("payload_size_bytes", bytes);
        ok.put("server_upload_time", System.currentTimeMillis());
        return new Answer(200, ok, 0);
    }

    private Answer injectedFault(final String path, final Request request, final int bytes) {
        final Faults current = faults;
        final Random rnd = random;
        final List<Event> events = request.events();
        final Integer scripted = script.poll();
        if (scripted != null) {
            return scripted(scripted, events, current, rnd);
        }
        final double roll = rnd.nextDouble();
        double edge = current.serverError();
        if (roll < edge) {
            final int status = new int[] {500, 502, 503, 504}[rnd.nextInt(4)];
            if (status != 503 && rnd.nextDouble() < current.ambiguous()) {
                ingestIfValid(path, request, bytes);
            }
            return error(status, status == 503 ? "Service Unavailable" : "Internal error");
        }
        edge += current.timeout();
        if (roll < edge) {
            if (rnd.nextDouble() < current.ambiguous()) {
                ingestIfValid(path, request, bytes);
            }
            return new Answer(504, errorBody(504, "Gateway Timeout"), current.timeoutHoldMillis());
        }
        edge += current.tooLarge();
        if (roll < edge && events.size() > 1) {
            return tooLarge();
        }
        edge += current.throttle();
        if (roll < edge && !events.isEmpty()) {
            return randomThrottle(events, rnd);
        }
        return null;
    }

    private Answer scripted(final int status, final List<Event> events, final Faults current, final Random rnd) {
        if (status == 413 && events.size() < 2 || status == 429 && events.isEmpty()
            || status == 400 && events.stream().map(Event::deviceId).filter(Objects::nonNull).distinct().count() < 2) {
            script.add(status);
            return null;
        }
        return switch (status) {
            case 0 -> new Answer(504, errorBody(504, "Gateway Timeout"), Math.max(current.timeoutHoldMillis(), 1000));
            case 413 -> tooLarge();
            case 429 -> randomThrottle(events, rnd);
            case 400 -> silencedDevice(events);
            default -> error(status, status == 503 ? "Service Unavailable" : "Internal error");
        };
    }

    private void ingestIfValid(final String path, final Request request, final int bytes) {
        if (validate(request.events(), request.minIdLength()) == null) {
            synchronized (lock) {
                ingest(path, request, bytes);
            }
        }
    }

    /** A 429 naming the id of one random event of the request, and every event of that id. */
    private Answer randomThrottle(final List<Event> events, final Random rnd) {
        final Event picked = events.get(rnd.nextInt(events.size()));
        final ObjectNode body = errorBody(429, "Too many requests for some devices and users");
        body.put("eps_threshold", options.epsThreshold() > 0 ? options.epsThreshold() : 30);
        final ObjectNode users = body.putObject("throttled_users");
        final ObjectNode devices = body.putObject("throttled_devices");
        final ArrayNode indexes = body.putArray("throttled_events");
        if (picked.userId() != null) {
            users.put(picked.userId(), 31);
        } else if (picked.deviceId() != null) {
            devices.put(picked.deviceId(), 31);
        }
        for (int i = 0; i < events.size(); i++) {
            final Event event = events.get(i);
            if (picked.userId() != null ? picked.userId().equals(event.userId())
                : picked.deviceId() != null && picked.deviceId().equals(event.deviceId())) {
                indexes.add(i);
            }
        }
        return new Answer(429, body, 0);
    }

    /**
     * The 400 Amplitude documents for a device over its events-per-second threshold: the request's first device is
     * silenced (its events are refused for good), its second device is throttled (its events may come again).
     */
    private Answer silencedDevice(final List<Event> events) {
        final List<String> devices = events.stream().map(Event::deviceId).filter(Objects::nonNull).distinct().toList();
        final String silenced = devices.get(0);
        final String throttled = devices.get(1);
        final ObjectNode body = errorBody(400, "Events silenced for device_id");
        body.put("eps_threshold", options.epsThreshold() > 0 ? options.epsThreshold() : 30);
        body.putObject("exceeded_daily_quota_devices");
        body.putArray("silenced_devices").add(silenced);
        final ArrayNode silencedEvents = body.putArray("silenced_events");
        body.putObject("throttled_devices").put(throttled, 31);
        final ArrayNode throttledEvents = body.putArray("throttled_events");
        for (int i = 0; i < events.size(); i++) {
            if (silenced.equals(events.get(i).deviceId())) {
                silencedEvents.add(i);
            } else if (throttled.equals(events.get(i).deviceId())) {
                throttledEvents.add(i);
            }
        }
        return new Answer(400, body, 0);
    }

    /** Amplitude's per-event checks; lists every offending index (as its older docs describe). */
    private static Answer validate(final List<Event> events, final int minIdLength) {
        final Map<String, Set<Integer>> invalid = new TreeMap<>();
        final Map<String, Set<Integer>> missing = new TreeMap<>();
        for (int i = 0; i < events.size(); i++) {
            final Event event = events.get(i);
            if (!event.object()) {
                invalid.computeIfAbsent("event", k -> new LinkedHashSet<>()).add(i);
                continue;
            }
            if (event.eventType() == null || event.eventType().isEmpty()) {
                missing.computeIfAbsent("event_type", k -> new LinkedHashSet<>()).add(i);
            }
            checkIds(event, i, minIdLength, invalid, missing);
            if (!event.timeValid()) {
                invalid.computeIfAbsent("time", k -> new LinkedHashSet<>()).add(i);
            }
            for (final String field : event.tooLong()) {
                invalid.computeIfAbsent(field, k -> new LinkedHashSet<>()).add(i);
            }
        }
        if (invalid.isEmpty() && missing.isEmpty()) {
            return null;
        }
        final ObjectNode body = errorBody(400, invalid.isEmpty() ? "Request missing required field"
            : "Invalid field values on some events");
        putIndexes(body.putObject("events_with_invalid_fields"), invalid);
        putIndexes(body.putObject("events_with_missing_fields"), missing);
        return new Answer(400, body, 0);
    }

    private static void checkIds(final Event event, final int index, final int minIdLength,
                                 final Map<String, Set<Integer>> invalid, final Map<String, Set<Integer>> missing) {
        boolean hasId = false;
        boolean anyInvalid = false;
        for (final String field : List.of("user_id", "device_id")) {
            final String value = "user_id".equals(field) ? event.userId() : event.deviceId();
            if (value == null) {
                continue;
            }
            if (INVALID_IDS.contains(value.trim().toLowerCase(Locale.ROOT)) || value.length() > MAX_STRING) {
                invalid.computeIfAbsent(field, k -> new LinkedHashSet<>()).add(index);
                anyInvalid = true;
            } else if (value.length() >= minIdLength) {
                hasId = true;
            }
        }
        if (!hasId && !anyInvalid) {
            missing.computeIfAbsent("user_id or device_id", k -> new LinkedHashSet<>()).add(index);
        }
    }

    private static void putIndexes(final ObjectNode into, final Map<String, Set<Integer>> indexes) {
        indexes.forEach((field, list) -> {
            final ArrayNode array = into.putArray(field);
            list.forEach(array::add);
        });
    }

    /** Ids (user_id, else device_id, as Amplitude counts either) over the threshold in the last second. */
    private Answer throttle(final List<Event> events, final int minIdLength) {
        if (options.epsThreshold() <= 0) {
            return null;
        }
        final long now = System.nanoTime();
        final Map<String, Integer> inRequest = new LinkedHashMap<>();
        for (final Event event : events) {
            inRequest.merge(idOf(event, minIdLength), 1, Integer::sum);
        }
        final Map<String, Integer> over = new LinkedHashMap<>();
        inRequest.forEach((id, count) -> {
            final int recent = recentCount(id, now);
            if (recent + count > options.epsThreshold()) {
                over.put(id, recent + count);
            }
        });
        if (over.isEmpty()) {
            return null;
        }
        final ObjectNode body = errorBody(429, "Too many requests for some devices and users");
        body.put("eps_threshold", options.epsThreshold());
        final ObjectNode users = body.putObject("throttled_users");
        final ObjectNode devices = body.putObject("throttled_devices");
        final ArrayNode indexes = body.putArray("throttled_events");
        for (int i = 0; i < events.size(); i++) {
            final String id = idOf(events.get(i), minIdLength);
            if (over.containsKey(id)) {
                indexes.add(i);
                (id.startsWith("u:") ? users : devices).put(id.substring(2), over.get(id));
            }
        }
        return new Answer(429, body, 0);
    }

    private int recentCount(final String id, final long now) {
        final ArrayDeque<long[]> window = idWindows.get(id);
        if (window == null) {
            return 0;
        }
        while (!window.isEmpty() && now - window.peekFirst()[0] > 1_000_000_000L) {
            window.pollFirst();
        }
        int total = 0;
        for (final long[] entry : window) {
            total += (int) entry[1];
        }
        return total;
    }

    private static String idOf(final Event event, final int minIdLength) {
        return event.userId() != null && event.userId().length() >= minIdLength ? "u:" + event.userId()
            : "d:" + (event.deviceId() == null ? "" : event.deviceId());
    }

    private void ingest(final String path, final Request request, final int bytes) {
        final Set<String> seen = insertIds.computeIfAbsent(request.apiKey(), k -> new HashSet<>());
        final long now = System.nanoTime();
        final Map<String, Integer> perId = new HashMap<>();
        for (final Event event : request.events()) {
            if (event.insertId() != null && !seen.add(event.insertId())) {
                duplicateCount++;
                if (options.record()) {
                    duplicates.add(toAccepted(-1, request.apiKey(), path, event));
                }
                continue;
            }
            acceptedCount++;
            if (options.epsThreshold() > 0) {
                perId.merge(idOf(event, request.minIdLength()), 1, Integer::sum);
            }
            if (options.record()) {
                accepted.add(toAccepted(acceptedCount, request.apiKey(), path, event));
            }
        }
        perId.forEach((id, count) -> idWindows.computeIfAbsent(id, k -> new ArrayDeque<>())
            .addLast(new long[] {now, count}));
        acceptedRequests++;
        acceptedRequestBytes += bytes;
        acceptedRequestEvents += request.events().size();
    }

    private static Accepted toAccepted(final long sequence, final String apiKey, final String path,
                                       final Event event) {
        return new Accepted(sequence, apiKey, path, event.eventType(), event.userId(), event.deviceId(), event.time(),
            event.insertId(), event.properties());
    }

    // ------------------------------------------------------------------------------------------- parsing

    private static Request parse(final byte[] body, final boolean keepProperties) throws IOException {
        try (JsonParser json = JSON.getFactory().createParser(body)) {
            if (json.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            String apiKey = null;
            List<Event> events = null;
            int minIdLength = 5;
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                final String name = json.currentName();
                final JsonToken value = json.nextToken();
                switch (name) {
                    case "api_key" -> apiKey = value == JsonToken.VALUE_STRING ? json.getText() : skip(json, null);
                    case "events" -> events = value == JsonToken.START_ARRAY ? events(json, keepProperties)
                        : skip(json, null);
                    case "options" -> minIdLength = value == JsonToken.START_OBJECT ? minIdLength(json)
                        : skip(json, 5);
                    default -> json.skipChildren();
                }
            }
            return new Request(apiKey, events, minIdLength);
        }
    }

    private static <T> T skip(final JsonParser json, final T result) throws IOException {
        json.skipChildren();
        return result;
    }

    private static int minIdLength(final JsonParser json) throws IOException {
        int min = 5;
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            final String name = json.currentName();
            final JsonToken value = json.nextToken();
            if ("min_id_length".equals(name) && value == JsonToken.VALUE_NUMBER_INT) {
                min = json.getIntValue();
            } else {
                json.skipChildren();
            }
        }
        return min;
    }

    private static List<Event> events(final JsonParser json, final boolean keepProperties) throws IOException {
        final List<Event> events = new ArrayList<>();
        for (JsonToken token = json.nextToken(); token != JsonToken.END_ARRAY; token = json.nextToken()) {
            if (token == JsonToken.START_OBJECT) {
                events.add(event(json, keepProperties));
            } else {
                json.skipChildren();
                events.add(new Event(false, null, null, null, false, 0, null, Set.of(), Map.of()));
            }
        }
        return events;
    }

    private static Event event(final JsonParser json, final boolean keepProperties) throws IOException {
        String eventType = null;
        String userId = null;
        String deviceId = null;
        boolean timeValid = true;
        long time = 0;
        String insertId = null;
        final Set<String> tooLong = new HashSet<>(2);
        Map<String, String> properties = Map.of();
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            final String name = json.currentName();
            final JsonToken value = json.nextToken();
            switch (name) {
                case "event_type" -> eventType = scalar(json, value);
                case "user_id" -> userId = scalar(json, value);
                case "device_id" -> deviceId = scalar(json, value);
                case "insert_id" -> insertId = scalar(json, value);
                case "time" -> {
                    timeValid = value == JsonToken.VALUE_NUMBER_INT;
                    time = timeValid ? json.getLongValue() : skip(json, 0L);
                }
                case "event_properties" -> properties = properties(json, value, keepProperties, tooLong);
                default -> json.skipChildren();
            }
        }
        if (eventType != null && eventType.length() > MAX_STRING) {
            tooLong.add("event_type");
        }
        if (insertId != null && insertId.length() > MAX_STRING) {
            tooLong.add("insert_id");
        }
        return new Event(true, eventType, userId, deviceId, timeValid, time, insertId, tooLong, properties);
    }

    private static String scalar(final JsonParser json, final JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_NULL) {
            return null;
        }
        if (value.isScalarValue()) {
            return json.getText();
        }
        json.skipChildren();
        return "{}";
    }

    private static Map<String, String> properties(final JsonParser json, final JsonToken value, final boolean keep,
                                                  final Set<String> tooLong) throws IOException {
        if (value != JsonToken.START_OBJECT) {
            json.skipChildren();
            return Map.of();
        }
        final Map<String, String> properties = keep ? new LinkedHashMap<>() : null;
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            final String key = json.currentName();
            final JsonToken token = json.nextToken();
            final String text = token.isScalarValue() ? json.getText() : skip(json, "");
            if (key.length() > MAX_STRING || text.length() > MAX_STRING) {
                tooLong.add("event_properties");
            }
            if (keep) {
                properties.put(key, text);
            }
        }
        return keep ? properties : Map.of();
    }

    private static Answer tooLarge() {
        return error(413, "Payload too large");
    }

    private static Answer missingField(final String field) {
        final ObjectNode body = errorBody(400, "Request missing required field");
        body.put("missing_field", field);
        return new Answer(400, body, 0);
    }

    private static Answer error(final int status, final String message) {
        return new Answer(status, errorBody(status, message), 0);
    }

    private static ObjectNode errorBody(final int status, final String message) {
        final ObjectNode body = JSON.createObjectNode();
        body.put("code", status);
        body.put("error", message);
        return body;
    }

    private static byte[] readBody(final InputStream in) throws IOException {
        return in.readAllBytes();
    }

    private static void sleep(final long millis) {
        try {
            Thread.sleep(millis);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
