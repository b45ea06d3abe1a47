package io.cohortsync.http;

import io.cohortsync.avro.SyncReport;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.CohortSyncService;
import io.cohortsync.serde.ConfluentAvroSerde;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * {@code bench-webhook}: the webhook's speed, on the embedded default (a fresh broker and state in a temp dir).
 * Posts Amplitude batches of {@code --users} users at a steady {@code --rate} for {@code --seconds} (open loop:
 * each call's time is measured from when it was due, so a slow answer does not hide the ones queued behind it),
 * and prints the response p50/p99, the accepted members per second, and the end-to-end time from a call's 200 to
 * its batch's SyncReport (read_committed), which is committed with or after the batch's last Partner Sync event.
 *
 * <p>Load: {@code --cohorts} cohorts share one pool of users; each call alternates a cohort between ADD and
 * REMOVE of the whole pool, so every call is 1,000 real changes (1,000 Partner Sync events) on existing profiles
 * (the warm-up creates them). Not a test: speed is only measured here.
 */
@Command(name = "bench-webhook", mixinStandardHelpOptions = true,
    description = "Benchmark the Amplitude webhook on the embedded default: response p50/p99, members/s, "
        + "end-to-end p99.")
public final class WebhookBenchmark implements Callable<Integer> {

    private static final String PASSCODE = "bench-passcode";
    private static final String ACCOUNTS = """
        accounts:
          bench:
            webhook:
              passcodes: ["%s"]
        """.formatted(PASSCODE);

    @Option(names = "--rate", description = "Webhook calls per second (default: ${DEFAULT-VALUE})")
    double rate = 20;

    @Option(names = "--seconds", description = "Measured duration (default: ${DEFAULT-VALUE})")
    int seconds = 60;

    @Option(names = "--warmup-seconds", description = "Unmeasured warm-up at the same rate (default: ${DEFAULT-VALUE})")
    int warmupSeconds = 10;

    @Option(names = "--users", description = "Users per call (default: ${DEFAULT-VALUE})")
    int users = 1000;

    @Option(names = "--properties", description = "User properties per user (default: ${DEFAULT-VALUE})")
    int properties = 5;

    @Option(names = "--cohorts", description = "Cohorts the calls rotate over (default: ${DEFAULT-VALUE})")
    int cohorts = 4;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
        description = "Any service setting, e.g. --set streams.commit-interval=100ms")
    List<String> settings = new ArrayList<>();

    /** One call: when it was due, when it was answered, with what. */
    private record Call(String messageId, long dueNanos, long answeredNanos, int status, int members) {
    }

    private final AtomicLong sequence = new AtomicLong();

    @Override
    public Integer call() throws Exception {
        final Path dir = Files.createTempDirectory("cohort-sync-bench-webhook");
        final Map<String, String> overrides = new HashMap<>(Map.of(
            "embedded.data-dir", dir.resolve("kafka").toString(),
            "state-dir", dir.resolve("state").toString()));
        for (final String setting : settings) {
            final int eq = setting.indexOf('=');
            overrides.put(setting.substring(0, Math.max(0, eq)).trim(), setting.substring(eq + 1));
        }
        final CohortSyncConfig config = CohortSyncConfig.of(overrides, ACCOUNTS);
        System.out.printf("bench-webhook: %d users x %d properties per call, %.1f calls/s for %d s (+%d s warm-up),"
            + " %d cohorts, commit interval %d ms; data in %s%n", users, properties, rate, seconds, warmupSeconds,
            cohorts, config.commitInterval().toMillis(), dir);
        try (CohortSyncService service = CohortSyncService.start(config);
             ReportWatcher reports = new ReportWatcher(service)) {
            if (!service.awaitRunning(Duration.ofMinutes(2))) {
                System.err.println("the service did not reach RUNNING");
                return 1;
            }
            final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            final URI uri = URI.create("http://127.0.0.1:" + service.httpPort() + AmplitudeWebhook.PATH);
            final Payloads payloads = new Payloads(users, properties);
            createProfiles(client, uri, payloads, reports);
            run(client, uri, payloads, warmupSeconds);
            final long started = System.nanoTime();
            final List<Call> calls = run(client, uri, payloads, seconds);
            final long finished = System.nanoTime();
            print(calls, started, finished, reports);
        } finally {
            deleteRecursively(dir);
        }
        return 0;
    }

    /** The run's broker data and state are only for this run (hundreds of MB after a minute). */
    private static void deleteRecursively(final Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }

    /** One ADD of the pool to a warm-up cohort: the profiles exist before anything is measured. */
    private void createProfiles(final HttpClient client, final URI uri, final Payloads payloads,
                                final ReportWatcher reports) throws Exception {
        final String messageId = "bench-create";
        final HttpResponse<String> response = client.send(request(uri, payloads.body("warm-up", true,
            messageId, 1L)), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("warm-up call answered " + response.statusCode() + ": " + response.body());
        }
        reports.awaitAll(List.of(messageId), Duration.ofMinutes(2));
    }

    /** Calls at a steady rate for {@code durationSeconds}; returns them once all are answered. */
    private List<Call> run(final HttpClient client, final URI uri, final Payloads payloads, final int durationSeconds)
        throws InterruptedException {
        final int total = (int) Math.round(rate * durationSeconds);
        final List<Call> calls = Collections.synchronizedList(new ArrayList<>(total));
        final CountDownLatch answered = new CountDownLatch(total);
        final AtomicInteger sent = new AtomicInteger();
        final long periodNanos = (long) (1_000_000_000L / rate);
        final long start = System.nanoTime();
        final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        scheduler.scheduleAtFixedRate(() -> {
            final int index = sent.getAndIncrement();
            if (index >= total) {
                return;
            }
            final long due = start + index * periodNanos;
            final long n = sequence.incrementAndGet();
            final String messageId = "bench-" + n;
            final String cohort = "c" + (n % cohorts);
            final boolean add = (n / cohorts) % 2 == 0;
            client.sendAsync(request(uri, payloads.body(cohort, add, messageId, 1_000_000L + n)),
                    HttpResponse.BodyHandlers.ofString())
                .whenComplete((response, error) -> {
                    calls.add(new Call(messageId, due, System.nanoTime(), error != null ? -1 : response.statusCode(),
                        payloads.users()));
                    answered.countDown();
                });
        }, 0, periodNanos, TimeUnit.NANOSECONDS);
        final boolean done = answered.await(durationSeconds + 120L, TimeUnit.SECONDS);
        scheduler.shutdownNow();
        if (!done) {
            System.err.println("not every call was answered in time");
        }
        return new ArrayList<>(calls);
    }

    private static HttpRequest request(final URI uri, final byte[] body) {
        return HttpRequest.newBuilder(uri)
            .header("Content-Type", "application/json")
            .header(AmplitudeWebhook.ACCOUNT_HEADER, "bench")
            .header(AmplitudeWebhook.PASSCODE_HEADER, PASSCODE)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    }

    private void print(final List<Call> calls, final long started, final long finished, final ReportWatcher reports)
        throws InterruptedException {
        final List<Call> ok = calls.stream().filter(c -> c.status() == 200).toList();
        final List<Long> response = ok.stream().map(c -> c.answeredNanos() - c.dueNanos()).sorted().toList();
        final double elapsedSeconds = (finished - started) / 1e9;
        final long members = ok.stream().mapToLong(Call::members).sum();
        final boolean complete = reports.awaitAll(ok.stream().map(Call::messageId).toList(), Duration.ofMinutes(3));
        final List<Long> endToEnd = ok.stream().map(c -> reports.seenAt(c.messageId()) - c.answeredNanos())
            .filter(nanos -> nanos > Long.MIN_VALUE / 2).sorted().toList();
        System.out.printf("%nWebhook: %d calls in %.1f s, %d answered 200, %d other%n", calls.size(), elapsedSeconds,
            ok.size(), calls.size() - ok.size());
        System.out.printf("  response time (from when each call was due): p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, "
            + "max %.1f ms%n", ms(response, 0.50), ms(response, 0.90), ms(response, 0.99), ms(response, 1.0));
        System.out.printf("  accepted members/s: %.0f (%d members)%n", members / elapsedSeconds, members);
        System.out.printf("  end to end (200 -> batch's SyncReport, after its last Partner Sync event; read_committed):"
            + " p50 %.0f ms, p99 %.0f ms, max %.0f ms%s%n", ms(endToEnd, 0.50), ms(endToEnd, 0.99),
            ms(endToEnd, 1.0), complete ? "" : " (INCOMPLETE: some batches did not finish in 3 min)");
        System.out.printf("  Partner Sync events in the measured batches: %d%n", reports.events(ok.stream()
            .map(Call::messageId).toList()));
    }

    private static double ms(final List<Long> sortedNanos, final double quantile) {
        if (sortedNanos.isEmpty()) {
            return Double.NaN;
        }
        final int index = (int) Math.ceil(quantile * sortedNanos.size()) - 1;
        return sortedNanos.get(Math.max(0, Math.min(sortedNanos.size() - 1, index))) / 1e6;
    }

    /** The users array is built once per operation; each call only adds its header fields. */
    private static final class Payloads {
        private final int users;
        private final String usersJson;

        Payloads(final int users, final int properties) {
            this.users = users;
            final StringBuilder json = new StringBuilder("[");
            for (int i = 0; i < users; i++) {
                json.append(i == 0 ? "" : ",").append("{\"user_id\":\"bench-user-").append(i)
                    .append("\",\"device_id\":null,\"user_properties\":{\"CleverTap_Identity\":\"bench-identity-")
                    .append(i).append('"');
                for (int p = 1; p < properties; p++) {
                    json.append(",\"property_").append(p).append("\":\"value-").append(i % 97).append('"');
                }
                json.append("}}");
            }
            this.usersJson = json.append(']').toString();
        }

        int users() {
            return users;
        }

        byte[] body(final String cohort, final boolean add, final String messageId, final long computedTime) {
            return ("{\"cohort_name\":\"Bench " + cohort + "\",\"cohort_id\":\"" + cohort + "\",\"in_cohort\":" + add
                + ",\"computed_time\":\"" + computedTime + "\",\"message_id\":\"" + messageId + "\",\"users\":"
                + usersJson + "}").getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Follows the sync-reports topic (read_committed) and notes when each batch's report became visible. */
    private static final class ReportWatcher implements AutoCloseable {
        private final Map<String, Long> seen = new ConcurrentHashMap<>();
        private final Map<String, Integer> events = new ConcurrentHashMap<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        ReportWatcher(final CohortSyncService service) {
            final String topic = service.topics().syncReports.name();
            final KafkaConsumer<String, SyncReport> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, service.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(),
                ConfluentAvroSerde.specific(SyncReport.class, service.config().serdeConfig(), false).deserializer());
            this.thread = new Thread(() -> follow(consumer, topic), "bench-report-watcher");
            thread.setDaemon(true);
            thread.start();
        }

        private void follow(final KafkaConsumer<String, SyncReport> consumer, final String topic) {
            try (consumer) {
                final List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofMinutes(1)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                while (running.get()) {
                    for (final ConsumerRecord<String, SyncReport> record : consumer.poll(Duration.ofMillis(20))) {
                        final long now = System.nanoTime();
                        seen.putIfAbsent(record.value().getMessageId(), now);
                        events.merge(record.value().getMessageId(),
                            record.value().getAdded() + record.value().getRemoved(), Integer::sum);
                    }
                }
            }
        }

        long seenAt(final String messageId) {
            return seen.getOrDefault(messageId, Long.MIN_VALUE);
        }

        int events(final List<String> messageIds) {
            return messageIds.stream().mapToInt(id -> events.getOrDefault(id, 0)).sum();
        }

        boolean awaitAll(final List<String> messageIds, final Duration timeout) throws InterruptedException {
            final long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (messageIds.stream().allMatch(seen::containsKey)) {
                    return true;
                }
                Thread.sleep(50);
            }
            return false;
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(5000);
        }
    }
}
