package io.cohortsync.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
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
    private final Map<Long, ThreadCpu> threads;

    private record ThreadCpu(String name, long cpuNanos) {
    }

    /** CPU per group, most first, plus totals. */
    record Delta(double wallSeconds, double processCpuSeconds, double gcSeconds, long gcCount,
                 List<Map.Entry<String, Double>> groups) {

        double coresBusy() {
            return wallSeconds <= 0 ? 0 : processCpuSeconds / wallSeconds;
        }
    }

    private CpuSnapshot(final long wallNanos, final long processCpuNanos, final long gcMillis, final long gcCount,
                        final Map<Long, ThreadCpu> threads) {
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
        long gcMillis = 0;
        long gcCount = 0;
        for (final GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcMillis += Math.max(0, gc.getCollectionTime());
            gcCount += Math.max(0, gc.getCollectionCount());
        }
        return new CpuSnapshot(System.nanoTime(), processCpuNanos(), gcMillis, gcCount, threads);
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
            (later.gcMillis - gcMillis) / 1e3, later.gcCount - gcCount, sorted);
    }

    private static String group(final String threadName, final List<String> appIds) {
        String name = threadName;
        for (final String appId : appIds) {
            name = name.replace(appId, "<app>");
        }
        name = UUID.matcher(name).replaceAll("<id>");
        return DIGITS.matcher(name).replaceAll("#");
    }

    private static long processCpuNanos() {
        final java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return Math.max(0, sun.getProcessCpuTime());
        }
        return 0;
    }
}
