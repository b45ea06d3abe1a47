package io.cohortsync.bench;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where the CPU of this JVM went between two snapshots: process CPU, GC, and CPU per thread group (thread names with
 * ids and numbers folded, so e.g. all broker request handlers count as one group). Everything - broker, Streams app,
 * producer, probe - runs in this one JVM, so this is a cheap, always-on profile of a measurement.
 */
final class CpuSnapshot {

    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern DIGITS = Pattern.compile("\\d+");

    private final long wallNanos;
    private final long processCpuNanos;
    private final long gcMillis;
    private final long gcCount;
    private final long systemBusyTicks;
    private final Map<Long, ThreadCpu> threads;

    private record ThreadCpu(String name, long cpuNanos) {
    }

    /** CPU per group, most first, plus totals. */
    record Delta(double wallSeconds, double processCpuSeconds, double gcSeconds, long gcCount,
                 double systemCpuSeconds, List<Map.Entry<String, Double>> groups) {

        double coresBusy() {
            return wallSeconds <= 0 ? 0 : processCpuSeconds / wallSeconds;
        }

        /** Cores used by other processes on the machine meanwhile (Linux only; 0 elsewhere). */
        double otherProcessesCores() {
            return wallSeconds <= 0 || systemCpuSeconds <= 0 ? 0
                : Math.max(0, (systemCpuSeconds - processCpuSeconds) / wallSeconds);
        }
    }

    private CpuSnapshot(final long wallNanos, final long processCpuNanos, final long gcMillis, final long gcCount,
                        final long systemBusyTicks, final Map<Long, ThreadCpu> threads) {
        this.systemBusyTicks = systemBusyTicks;
        this.wallNanos = wallNanos;
        this.processCpuNanos = processCpuNanos;
        this.gcMillis = gcMillis;
        this.gcCount = gcCount;
        this.threads = threads;
    }

    static CpuSnapshot take() {
        final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        final Map<Long, ThreadCpu> threads = new HashMap<>();
        if (mx.isThreadCpuTimeSupported()) {
            if (!mx.isThreadCpuTimeEnabled()) {
                mx.setThreadCpuTimeEnabled(true);
            }
            final long[] ids = mx.getAllThreadIds();
            final ThreadInfo[] infos = mx.getThreadInfo(ids);
            for (int i = 0; i < ids.length; i++) {
                final long cpu = mx.getThreadCpuTime(ids[i]);
                if (infos[i] != null && cpu >= 0) {
                    threads.put(ids[i], new ThreadCpu(infos[i].getThreadName(), cpu));
                }
            }
        }
        addNativeThreads(threads);
        long gcMillis = 0;
        long gcCount = 0;
        for (final GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcMillis += Math.max(0, gc.getCollectionTime());
            gcCount += Math.max(0, gc.getCollectionCount());
        }
        return new CpuSnapshot(System.nanoTime(), processCpuNanos(), gcMillis, gcCount, systemBusyTicks(), threads);
    }

    /** The change from {@code this} to {@code later}; app ids are folded to {@code <app>} in thread names. */
    Delta until(final CpuSnapshot later, final List<String> appIds) {
        final Map<String, Double> groups = new LinkedHashMap<>();
        later.threads.forEach((id, after) -> {
            final ThreadCpu before = threads.get(id);
            final long cpu = after.cpuNanos() - (before == null ? 0 : before.cpuNanos());
            if (cpu > 0) {
                groups.merge(group(after.name(), appIds), cpu / 1e9, Double::sum);
            }
        });
        final List<Map.Entry<String, Double>> sorted = new ArrayList<>(groups.entrySet());
        sorted.sort(Map.Entry.<String, Double>comparingByValue().reversed());
        return new Delta((later.wallNanos - wallNanos) / 1e9, (later.processCpuNanos - processCpuNanos) / 1e9,
            (later.gcMillis - gcMillis) / 1e3, later.gcCount - gcCount,
            (later.systemBusyTicks - systemBusyTicks) / 100.0, sorted);
    }

    /**
     * Threads the JVM does not list - RocksDB's background flush and compaction threads, JIT compilers, GC workers -
     * from /proc on Linux (nothing elsewhere), keyed by negative native thread ids so they never clash with Java ids.
     */
    private static void addNativeThreads(final Map<Long, ThreadCpu> threads) {
        final Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            return;
        }
        final java.util.Set<String> javaPrefixes = new java.util.HashSet<>();
        threads.values().forEach(t -> javaPrefixes.add(t.name().substring(0, Math.min(15, t.name().length()))));
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tasks)) {
            for (final Path dir : dirs) {
                try {
                    final String stat = Files.readString(dir.resolve("stat"));
                    final int open = stat.indexOf('(');
                    final int close = stat.lastIndexOf(')');
                    final String comm = stat.substring(open + 1, close);
                    if (javaPrefixes.contains(comm)) {
                        continue;
                    }
                    final String[] fields = stat.substring(close + 2).split(" ");
                    // After the comm: state(0) ... utime(11) stime(12), in clock ticks (USER_HZ, 100 on Linux).
                    final long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                    threads.put(-Long.parseLong(dir.getFileName().toString()),
                        new ThreadCpu("native: " + comm, ticks * 10_000_000L));
                } catch (final IOException | RuntimeException e) {
                    // The thread ended meanwhile, or an unexpected format: skip it.
                }
            }
        } catch (final IOException e) {
            // No /proc access: Java threads only.
        }
    }

    private static String group(final String threadName, final List<String> appIds) {
        String name = threadName;
        for (final String appId : appIds) {
            name = name.replace(appId, "<app>");
        }
        name = UUID.matcher(name).replaceAll("<id>");
        return DIGITS.matcher(name).replaceAll("#");
    }

    /** Busy CPU ticks of the whole machine (all but idle and iowait), from /proc/stat; 0 where unavailable. */
    private static long systemBusyTicks() {
        try {
            final String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
            final String[] f = cpu.trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                if (i != 4 && i != 5) {
                    busy += Long.parseLong(f[i]);
                }
            }
            return busy;
        } catch (final IOException | RuntimeException e) {
            return 0;
        }
    }

    private static long processCpuNanos() {
        final java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return Math.max(0, sun.getProcessCpuTime());
        }
        return 0;
    }
}
