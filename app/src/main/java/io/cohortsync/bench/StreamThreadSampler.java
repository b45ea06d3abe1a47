package io.cohortsync.bench;

import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A poor man's profiler for one measurement: every few milliseconds it takes the stack of the Streams app's stream
 * thread(s) and counts what they were doing (RocksDB put/get, Avro, transaction commit, poll, ...) and in which
 * cohort-sync stage. Every half second it also reads the RocksDB memtable gauges Kafka Streams exposes at the INFO
 * recording level. Evidence for where a measurement's time goes, at a cost of a few percent.
 */
final class StreamThreadSampler implements Runnable {

    private static final long STACK_INTERVAL_MS = 20;
    private static final int METRICS_EVERY = 25;
    private static final Set<String> ROCKSDB_GAUGES = Set.of("num-immutable-mem-table", "mem-table-flush-pending",
        "num-running-flushes", "compaction-pending", "num-running-compactions", "estimate-pending-compaction-bytes",
        "cur-size-all-mem-tables");

    private final String appId;
    private final Supplier<Map<MetricName, ? extends Metric>> metrics;
    private final Map<String, Integer> activities = new HashMap<>();
    private final Map<String, Integer> stages = new HashMap<>();
    private final Map<String, Integer> stageActivities = new HashMap<>();
    private final Map<String, Integer> states = new HashMap<>();
    private final Map<String, Double> gaugeSums = new HashMap<>();
    private int stackSamples;
    private int metricSamples;
    private int flushPendingSamples;
    private volatile boolean stop;

    StreamThreadSampler(final String appId, final Supplier<Map<MetricName, ? extends Metric>> metrics) {
        this.appId = appId;
        this.metrics = metrics;
    }

    @Override
    public void run() {
        final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        int tick = 0;
        while (!stop) {
            sampleStacks(mx);
            if (tick++ % METRICS_EVERY == 0) {
                sampleRocksDb();
            }
            try {
                Thread.sleep(STACK_INTERVAL_MS);
            } catch (final InterruptedException e) {
                return;
            }
        }
    }

    void stop() {
        stop = true;
    }

    private void sampleStacks(final ThreadMXBean mx) {
        final long[] ids = mx.getAllThreadIds();
        final List<Long> streamThreads = new ArrayList<>();
        for (final ThreadInfo info : mx.getThreadInfo(ids)) {
            if (info != null && info.getThreadName().startsWith(appId)
                && info.getThreadName().matches(".*-StreamThread-\\d+$")) {
                streamThreads.add(info.getThreadId());
            }
        }
        if (streamThreads.isEmpty()) {
            return;
        }
        final ThreadInfo[] infos = mx.getThreadInfo(streamThreads.stream().mapToLong(Long::longValue).toArray(), 96);
        synchronized (this) {
            for (final ThreadInfo info : infos) {
                if (info == null) {
                    continue;
                }
                stackSamples++;
                final StackTraceElement[] stack = info.getStackTrace();
                final String activity = activity(stack);
                final String stage = stage(stack);
                activities.merge(activity, 1, Integer::sum);
                stages.merge(stage, 1, Integer::sum);
                stageActivities.merge(stage + " / " + activity, 1, Integer::sum);
                states.merge(info.getThreadState().name(), 1, Integer::sum);
            }
        }
    }

    private static String activity(final StackTraceElement[] stack) {
        for (final StackTraceElement frame : stack) {
            final String cls = frame.getClassName();
            final String method = frame.getMethodName();
            if (cls.startsWith("org.rocksdb.")) {
                return "RocksDB " + simple(cls) + "." + method;
            }
            if (cls.startsWith("org.apache.avro.")) {
                return "Avro encode/decode";
            }
            if (cls.endsWith("KafkaProducer") || cls.endsWith("StreamsProducer") || cls.endsWith("TransactionManager")) {
                if (method.contains("ommitTransaction") || method.contains("OffsetsToTransaction")
                    || method.contains("beginTransaction") || method.contains("abortTransaction")) {
                    return "transaction (" + method + ")";
                }
                if (method.equals("send") || method.equals("doSend")) {
                    return "producer send";
                }
            }
            if (cls.contains("Consumer") && method.equals("poll")) {
                return "consumer poll";
            }
            if (cls.startsWith("java.util.UUID") || cls.startsWith("sun.security.provider.MD5")
                || cls.startsWith("java.security.MessageDigest")) {
                return "UUID/MD5 (event ids, object ids)";
            }
        }
        if (stack.length == 0) {
            return "(no stack)";
        }
        return "other: " + simple(stack[0].getClassName()) + "." + stack[0].getMethodName();
    }

    private static String stage(final StackTraceElement[] stack) {
        for (final StackTraceElement frame : stack) {
            final String cls = frame.getClassName();
            if (cls.startsWith("io.cohortsync.") && (cls.endsWith("Processor") || cls.contains("FloorTopology"))) {
                return simple(cls).replaceAll("\\$.*", "");
            }
        }
        for (final StackTraceElement frame : stack) {
            final String method = frame.getMethodName();
            if (frame.getClassName().endsWith("RecordCollectorImpl")) {
                return "(Streams: writing outputs)";
            }
            if (method.equals("commit") || method.contains("ommitTask") || method.contains("ommitTransaction")
                || method.contains("maybeCommit")) {
                return "(Streams: commit)";
            }
            if (method.equals("poll") || method.equals("pollRequests")) {
                return "(Streams: poll)";
            }
        }
        return "(Streams: other)";
    }

    private void sampleRocksDb() {
        final Map<MetricName, ? extends Metric> all;
        try {
            all = metrics.get();
        } catch (final RuntimeException e) {
            return;
        }
        final Map<String, Double> sums = new HashMap<>();
        boolean flushPending = false;
        for (final Map.Entry<MetricName, ? extends Metric> entry : all.entrySet()) {
            final String name = entry.getKey().name();
            if (!ROCKSDB_GAUGES.contains(name) && !name.equals("write-stall-duration-total")) {
                continue;
            }
            final Object value;
            try {
                value = entry.getValue().metricValue();
            } catch (final RuntimeException e) {
                continue;
            }
            if (value instanceof Number number) {
                sums.merge(name, number.doubleValue(), Double::sum);
                if (name.equals("mem-table-flush-pending") && number.doubleValue() > 0) {
                    flushPending = true;
                }
            }
        }
        if (sums.isEmpty()) {
            return;
        }
        synchronized (this) {
            metricSamples++;
            if (flushPending) {
                flushPendingSamples++;
            }
            sums.forEach((name, value) -> {
                if (name.equals("write-stall-duration-total")) {
                    gaugeSums.put(name, value);
                } else {
                    gaugeSums.merge(name, value, Double::sum);
                }
            });
        }
    }

    /** The stream threads' stacks right now, {@code depth} frames each, for a failure report. */
    List<String> currentStacks(final int depth) {
        final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        final List<String> lines = new ArrayList<>();
        for (final ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds(), depth)) {
            if (info != null && info.getThreadName().startsWith(appId)
                && info.getThreadName().matches(".*-StreamThread-\\d+$")) {
                lines.add("\"" + info.getThreadName() + "\" " + info.getThreadState());
                for (final StackTraceElement frame : info.getStackTrace()) {
                    lines.add("    at " + frame);
                }
            }
        }
        return lines;
    }

    /** Report lines: top activities and stages of the stream thread, and the RocksDB gauges. */
    synchronized List<String> report(final int top) {
        final List<String> lines = new ArrayList<>();
        if (stackSamples == 0) {
            lines.add("no stream-thread samples");
            return lines;
        }
        lines.add(String.format(Locale.ROOT, "stream thread, %d stack samples every %d ms; thread states %s",
            stackSamples, STACK_INTERVAL_MS, percentages(states, stackSamples)));
        addShares(lines, "by activity", activities, top);
        addShares(lines, "by stage", stages, top);
        addShares(lines, "by stage / activity", stageActivities, 2 * top);
        if (metricSamples > 0) {
            final StringBuilder gauges = new StringBuilder();
            gaugeSums.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> gauges.append(
                String.format(Locale.ROOT, "%s%s %s", gauges.length() == 0 ? "" : ", ", e.getKey(),
                    e.getKey().equals("write-stall-duration-total") ? String.format(Locale.ROOT,
                        "%.0f (total over all stores)", e.getValue())
                        : String.format(Locale.ROOT, "%.2f", e.getValue() / metricSamples))));
            lines.add(String.format(Locale.ROOT, "  RocksDB (all stores summed, mean of %d samples): "
                + "a flush pending in %.0f%% of samples; %s", metricSamples,
                100.0 * flushPendingSamples / metricSamples, gauges));
        }
        return lines;
    }

    private static String percentages(final Map<String, Integer> counts, final int total) {
        final StringBuilder out = new StringBuilder();
        topOf(counts, 10).forEach(e -> out.append(out.length() == 0 ? "" : ", ").append(e.getKey()).append(' ')
            .append(Math.round(100.0 * e.getValue() / total)).append('%'));
        return out.toString();
    }

    /** A title line, then the {@code top} largest counts as shares of all stack samples. */
    private void addShares(final List<String> lines, final String title, final Map<String, Integer> counts,
                           final int top) {
        lines.add("  " + title + ":");
        topOf(counts, top).forEach(e -> lines.add(String.format(Locale.ROOT, "    %5.1f%%  %s",
            100.0 * e.getValue() / stackSamples, e.getKey())));
    }

    private static List<Map.Entry<String, Integer>> topOf(final Map<String, Integer> counts, final int top) {
        return counts.entrySet().stream()
            .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
            .limit(top)
            .toList();
    }

    private static String simple(final String className) {
        final int dot = className.lastIndexOf('.');
        return dot < 0 ? className : className.substring(dot + 1);
    }
}
