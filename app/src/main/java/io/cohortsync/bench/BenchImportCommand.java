package io.cohortsync.bench;

import io.cohortsync.config.CohortSyncConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code cohort-sync bench-import}: the import benchmark (see {@link ImportBenchmark} and BENCHMARKS.md). Starts its
 * own in-process broker on a temporary directory; needs no configuration and leaves nothing behind.
 */
@Command(name = "bench-import", mixinStandardHelpOptions = true,
    description = {"Benchmark the import: cohort-sync's topology against a trivial Kafka Streams app (the floor) on "
        + "the same batches, on an in-process broker, and print members/s, p50/p99 latency and the ratio.",
        "Takes several minutes at the default size. Suggested JVM: default heap, or -Xmx4g."})
public final class BenchImportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--members", defaultValue = "1000000", description = "Members to import (default: ${DEFAULT-VALUE})")
    int members;

    @Option(names = "--batch-size", defaultValue = "1000",
        description = "Members per CohortSyncRequest (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--new-share", defaultValue = "0.30",
        description = "Share of members with an identity that has no profile yet (default: ${DEFAULT-VALUE})")
    double newShare;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions of every topic (default: ${DEFAULT-VALUE})")
    int partitions;

    @Option(names = "--cohorts", defaultValue = "20", description = "Cohorts the batches are spread over (default: ${DEFAULT-VALUE})")
    int cohorts;

    @Option(names = "--warmup-members", defaultValue = "100000",
        description = "Members sent (in their own cohorts, not counted) before each measurement so both apps are "
            + "measured JIT-warm; 0 to measure cold (default: ${DEFAULT-VALUE})")
    int warmUpMembers;

    @Option(names = "--stall-timeout", defaultValue = "180",
        description = "Fail when no new event arrives for this many seconds (default: ${DEFAULT-VALUE})")
    int stallTimeoutSeconds;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
        description = "For experiments: a cohort-sync setting (e.g. rocksdb.write-buffer-mb=64 or "
            + "streams-config.<streams setting>=...) applied to both apps; repeatable. The reference run uses none.")
    Map<String, String> extraConfig = new LinkedHashMap<>();

    @Option(names = "--enforce-target",
        description = "Exit with code 3 when ours reaches less than 0.35 of the floor's throughput")
    boolean enforceTarget;

    @Override
    public Integer call() throws Exception {
        final ImportBenchmark.Settings settings;
        try {
            settings = new ImportBenchmark.Settings(members, batchSize, newShare, partitions, cohorts, warmUpMembers,
                Duration.ofSeconds(Math.max(10, stallTimeoutSeconds)), extraConfig);
        } catch (final IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        // A misspelt setting fails now, not minutes later when the benchmark's broker is up.
        CohortSyncConfig.of(extraConfig, null);
        final PrintWriter out = spec.commandLine().getOut();
        final ImportBenchmark.Result result = ImportBenchmark.run(settings, out);
        return enforceTarget && !result.targetMet() ? 3 : 0;
    }
}
