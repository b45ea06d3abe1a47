package io.cohortsync.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line's answers to help and to bad flags, before anything connects to Kafka. */
class CohortSyncCliTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int execute(final String... args) {
        final CommandLine commandLine = CohortSyncCli.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }

    @Test
    void everyCommandHasHelp() {
        for (final String command : new String[] {"run", "produce-sample", "inspect", "bench-import"}) {
            assertThat(execute(command, "--help")).as(command).isZero();
            assertThat(out.toString()).contains("Usage: cohort-sync " + command);
        }
    }

    @Test
    void aSampleOfNoBatchSizeIsAUsageErrorNotAnEndlessLoop() {
        assertThat(execute("produce-sample", "--batch-size", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--batch-size must be at least 1, got 0");
    }

    @Test
    void aMisspeltSettingIsAConfigurationError() {
        assertThat(execute("inspect", "requests", "--set", "topolgy.partitions=8")).isEqualTo(2);
        assertThat(err.toString()).contains("Configuration error: unknown setting topolgy.partitions")
            .contains("did you mean 'topology.partitions'?");
    }

    @Test
    void anAccountSettingOnTheCommandLineIsRefusedNotIgnored() {
        assertThat(execute("inspect", "requests", "--set", "accounts.demo.import.policy=MATCH_ONLY")).isEqualTo(2);
        assertThat(err.toString()).contains("Configuration error: accounts.demo.import.policy (from flag --set "
            + "accounts.demo.import.policy) cannot be set here").contains("(--config FILE)");
    }
}
