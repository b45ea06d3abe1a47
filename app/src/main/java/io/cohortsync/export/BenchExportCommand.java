package io.cohortsync.export;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code cohort-sync bench-export}: the export benchmark (see {@link ExportBenchmark} and BENCHMARKS.md). Starts its
 * own in-process broker and Amplitude emulator on a temporary directory; needs no configuration, leaves nothing.
 */
@Command(name = "bench-export", mixinStandardHelpOptions = true,
    description = {"Benchmark the export: a backlog of events on the export topic, read by a plain consumer (the "
        + "floor) and by the Amplitude exporter into the local Amplitude emulator; prints events/s, requests/s and "
        + "the mean batch fill against Amplitude's 2000-event / 1 MB limits.",
        "Takes a minute or two at the default size."})
public final class BenchExportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--events", defaultValue = "1000000", description = "Events in the backlog (default: ${DEFAULT-VALUE})")
    int events;

    @Option(names = "--users", defaultValue = "50000", description = "Distinct Amplitude users (default: ${DEFAULT-VALUE})")
    int users;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions of the export topic (default: ${DEFAULT-VALUE})")
    int partitions;

    @Option(names = "--max-in-flight", defaultValue = "4",
        description = "Requests in flight per account, export.max-in-flight-requests (default: ${DEFAULT-VALUE})")
    int maxInFlight;

    @Option(names = "--endpoint", defaultValue = "HTTP_V2", description = "HTTP_V2 or BATCH (default: ${DEFAULT-VALUE})")
    Endpoint endpoint;

    @Option(names = "--padding", defaultValue = "0",
        description = "Characters added to each event as a property, to make the byte limit bind (default: ${DEFAULT-VALUE})")
    int padding;

    @Option(names = "--timeout", defaultValue = "900", description = "Give up after this many seconds (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(names = "--enforce-target", description = "Exit with code 3 when the mean batch fill is below 95%%")
    boolean enforceTarget;

    @Override
    public Integer call() throws Exception {
        final ExportBenchmark.Settings settings;
        try {
            settings = new ExportBenchmark.Settings(events, users, partitions, maxInFlight, endpoint, padding,
                Duration.ofSeconds(Math.max(10, timeoutSeconds)));
        } catch (final IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        final ExportBenchmark.Result result = ExportBenchmark.run(settings, spec.commandLine().getOut());
        return enforceTarget && !result.targetMet() ? 3 : 0;
    }
}
