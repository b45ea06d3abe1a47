package io.cohortsync.cli;

import io.cohortsync.config.InvalidConfigException;
import io.cohortsync.http.AmplitudePayloadFile;
import io.cohortsync.runtime.Causes;
import io.cohortsync.runtime.StartupException;
import io.cohortsync.serde.AvroDecodingLimits;
import org.apache.kafka.common.errors.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code cohort-sync} command line: run the service, produce sample data, inspect topics, benchmark. */
@Command(name = "cohort-sync", mixinStandardHelpOptions = true, version = CohortSyncCli.VERSION,
    description = "Amplitude cohorts to engagement-platform segments, on Kafka Streams.",
    subcommands = {RunCommand.class, ProduceSampleCommand.class, ProduceCommand.class, InspectCommand.class,
        io.cohortsync.bench.BenchImportCommand.class, io.cohortsync.bench.StoreCostBenchmark.class,
        io.cohortsync.export.BenchExportCommand.class,
        io.cohortsync.http.WebhookBenchmark.class})
public final class CohortSyncCli {

    static final String VERSION = "cohort-sync 0.1.0";

    public static void main(final String[] args) {
        // Before anything touches Avro, which reads its limits once (see AvroDecodingLimits).
        AvroDecodingLimits.install();
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        final CommandLine commandLine = new CommandLine(new CohortSyncCli());
        // Every subcommand lists -V (mixinStandardHelpOptions), which prints nothing without a version of its own.
        commandLine.getSubcommands().values().forEach(sub -> sub.getCommandSpec().version(VERSION));
        commandLine.setExecutionExceptionHandler((error, cmd, parseResult) -> {
            if (error instanceof InvalidConfigException) {
                cmd.getErr().println("Configuration error: " + error.getMessage());
                return 2;
            }
            if (error instanceof AmplitudePayloadFile.InvalidFileException) {
                cmd.getErr().println("Input error: " + error.getMessage() + "; nothing was produced");
                return 2;
            }
            if (error instanceof StartupException) {
                cmd.getErr().println("Cannot start: " + error.getMessage());
                return 1;
            }
            if (Causes.has(error, TimeoutException.class)) {
                // A client that waited its full timeout for Kafka: the stack trace would add nothing to say so.
                cmd.getErr().println("Error: Kafka did not answer in time (" + error.getMessage() + "); is it "
                    + "running, and reachable at the bootstrap servers this command uses?");
                return 1;
            }
            cmd.getErr().println("Error: " + error);
            error.printStackTrace(cmd.getErr());
            return 1;
        });
        return commandLine;
    }
}
