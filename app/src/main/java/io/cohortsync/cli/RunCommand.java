package io.cohortsync.cli;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.CohortSyncService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "run", description = "Run the service. With no Kafka configured: an in-process broker and registry.")
final class RunCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() throws Exception {
        final CohortSyncConfig config = options.load();
        final CohortSyncService service = CohortSyncService.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close, "cohort-sync-shutdown"));
        if (!service.awaitRunning(Duration.ofMinutes(2))) {
            System.err.println("cohort-sync did not reach RUNNING; see the log above");
        } else if (config.embedded()) {
            System.out.printf("%ncohort-sync is running on its embedded default.%n"
                    + "  Kafka:           %s (data in %s, kept across restarts)%n"
                    + "  Schema registry: %s (in-memory; Confluent REST API)%n"
                    + "  Accounts:        %s%n"
                    + "Next, in another terminal from this directory:%n"
                    + "  java -jar app/target/cohort-sync.jar produce-sample%n"
                    + "  java -jar app/target/cohort-sync.jar inspect partner-sync%n"
                    + "Stop with Ctrl-C.%n%n",
                service.bootstrapServers(), config.embeddedDataDir().toAbsolutePath(), service.schemaRegistryUrl(),
                config.accounts().keySet());
        }
        service.awaitStop();
        return 0;
    }
}
