package io.cohortsync.cli;

import io.cohortsync.embedded.EmbeddedConnection;
import io.cohortsync.topology.Topic;
import io.cohortsync.topology.Topics;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
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
        for (final String command : CohortSyncCli.commandLine().getSubcommands().keySet()) {
            assertThat(execute(command, "--help")).as(command).isZero();
            assertThat(out.toString()).contains("Usage: cohort-sync " + command);
        }
    }

    @Test
    void everyCommandPrintsTheVersion() {
        assertThat(execute("--version")).isZero();
        for (final String command : CohortSyncCli.commandLine().getSubcommands().keySet()) {
            out.getBuffer().setLength(0);
            assertThat(execute(command, "-V")).as(command).isZero();
            assertThat(out.toString()).as(command).isEqualTo("cohort-sync 0.1.0" + System.lineSeparator());
        }
    }

    @Test
    void everyHelpTextFormatsWithoutPicocliWarnings() {
        // picocli formats descriptions with String.format: a lone '%' makes it warn on stderr at every --help.
        final PrintStream stderr = System.err;
        final ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        try {
            execute("--help");
            CohortSyncCli.commandLine().getSubcommands().keySet().forEach(command -> execute(command, "--help"));
        } finally {
            System.setErr(stderr);
        }
        assertThat(warnings.toString(StandardCharsets.UTF_8)).doesNotContain("picocli WARN");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void helpShowsDefaultsAndWhatASampleSizeMeans() {
        execute("inspect", "--help");
        assertThat(out.toString().replaceAll("\\s+", " ")).contains("without a record (default: 3)");
        out.getBuffer().setLength(0);
        execute("produce-sample", "--help");
        assertThat(out.toString().replaceAll("\\s+", " ")).contains("3000 users become about 1,800 profiles and "
            + "4,700 members in batches for demo (default: 3000)");
    }

    @Test
    void aSampleOfNoBatchSizeIsAUsageErrorNotAnEndlessLoop() {
        assertThat(execute("produce-sample", "--batch-size", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--batch-size must be at least 1, got 0");
    }

    @Test
    void inspectTakesOnlyAnExactTopicName() {
        for (final String name : new String[] {"s", "quests", "cohort-sync.s", "partner"}) {
            err.getBuffer().setLength(0);
            assertThat(execute("inspect", name)).as(name).isEqualTo(2);
            assertThat(err.toString()).as(name).contains("unknown topic '" + name + "': use one of requests, "
                + "profiles, partner-sync, engagement-events, amplitude-export, sync-reports, dlq (or the full name, "
                + "such as cohort-sync.requests)");
        }
    }

    @Test
    void inspectTakesTheShortOrTheFullNameAndThenLooksForTheService(@TempDir final Path noService) {
        for (final String name : new String[] {"requests", "cohort-sync.requests", "dlq"}) {
            err.getBuffer().setLength(0);
            assertThat(execute("inspect", name, "--set", "embedded.data-dir=" + noService)).as(name).isEqualTo(2);
            assertThat(err.toString()).as(name).doesNotContain("unknown topic")
                .contains("no embedded cohort-sync running");
        }
    }

    @Test
    void aConnectionFileLeftByAHardKilledRunFailsAtOnceWithOneLine(@TempDir final Path dataDir) throws IOException {
        final int freedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            freedPort = socket.getLocalPort();
        }
        new EmbeddedConnection("127.0.0.1:" + freedPort, "http://127.0.0.1:1/").writeTo(dataDir);
        for (final String[] command : List.of(new String[] {"inspect", "requests"}, new String[] {"produce-sample"})) {
            err.getBuffer().setLength(0);
            final long start = System.nanoTime();
            final String[] args = Stream.concat(Stream.of(command), Stream.of("--set", "embedded.data-dir=" + dataDir))
                .toArray(String[]::new);
            assertThat(execute(args)).as(command[0]).isEqualTo(2);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as(command[0]).isLessThan(Duration.ofSeconds(10));
            assertThat(err.toString()).as(command[0])
                .contains("the cohort-sync started from this directory does not seem to be running")
                .contains("nothing listens at 127.0.0.1:" + freedPort)
                .contains("start it with `java -jar app/target/cohort-sync.jar run`")
                .hasLineCount(1);
        }
    }

    @Test
    void aKafkaTimeoutIsOneLineNotAStackTrace() {
        final CommandLine commandLine = CohortSyncCli.commandLine();
        commandLine.addSubcommand("times-out", new TimesOut());
        commandLine.setErr(new PrintWriter(err, true));

        assertThat(commandLine.execute("times-out")).isEqualTo(1);
        assertThat(err.toString()).contains("Error: Kafka did not answer in time (Kafka did not take the records: "
            + "org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s))").hasLineCount(1);
    }

    /** As produce-sample fails when its records expire unsent. */
    @Command(name = "times-out")
    static final class TimesOut implements Callable<Integer> {
        @Override
        public Integer call() {
            final TimeoutException timeout = new TimeoutException("Expiring 1 record(s)");
            throw new IllegalStateException("Kafka did not take the records: " + timeout, timeout);
        }
    }

    @Test
    void inspectsShortNamesAreThoseOfEveryTopic() {
        final Topics topics = Topics.create("p.", Map.of("schema.registry.url", "mock://inspect-names"));
        assertThat(topics.all()).extracting(Topic::name)
            .containsExactlyElementsOf(Topics.SHORT_NAMES.stream().map(name -> "p." + name).toList());
    }

    @Test
    void aMisspeltSettingIsAConfigurationError() {
        assertThat(execute("inspect", "requests", "--set", "topolgy.partitions=8")).isEqualTo(2);
        assertThat(err.toString()).contains("Configuration error: unknown setting topolgy.partitions")
            .contains("did you mean 'topology.partitions'?");
    }

    @Test
    void benchImportTakesSettingsWithSetAndChecksThemBeforeItStarts() {
        assertThat(execute("bench-import", "--set", "topolgy.partitions=8")).isEqualTo(2);
        assertThat(err.toString()).contains("Configuration error: unknown setting topolgy.partitions")
            .contains("did you mean 'topology.partitions'?");
        err.getBuffer().setLength(0);
        // --config is a FILE on every other command; bench-import no longer takes it as KEY=VALUE.
        assertThat(execute("bench-import", "--config", "rocksdb.block-cache-mb=1024")).isEqualTo(2);
        assertThat(err.toString()).contains("Unknown option").contains("'--config'");
    }

    @Test
    void anAccountSettingOnTheCommandLineIsRefusedNotIgnored() {
        assertThat(execute("inspect", "requests", "--set", "accounts.demo.import.policy=MATCH_ONLY")).isEqualTo(2);
        assertThat(err.toString()).contains("Configuration error: accounts.demo.import.policy (from flag --set "
            + "accounts.demo.import.policy) cannot be set here").contains("(--config FILE)");
    }
}
