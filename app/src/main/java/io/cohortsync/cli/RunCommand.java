package io.cohortsync.cli;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.CohortSyncService;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Run the service. With no Kafka configured: an in-process broker and registry.")
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
                    + "  HTTP:            %s (webhook POST /webhooks/amplitude; API in /openapi.yaml)%n"
                    + "                   %s%n"
                    + "Next, in another terminal from this directory:%n"
                    + "  java -jar app/target/cohort-sync.jar produce-sample%n"
                    + "  java -jar app/target/cohort-sync.jar inspect partner-sync%n"
                    + "Stop with Ctrl-C.%n%n",
                service.bootstrapServers(), config.embeddedDataDir().toAbsolutePath(), service.schemaRegistryUrl(),
                config.accounts().keySet(), httpUrl(config, service), querySecurity(config));
        }
        service.awaitStop();
        if (service.streams().state() == KafkaStreams.State.ERROR) {
            // An orchestrator restarts a process that exits non-zero; Streams does not come back from ERROR on its own.
            System.err.println("cohort-sync stopped: Kafka Streams is in ERROR (its threads failed); see the log");
            return 1;
        }
        return 0;
    }

    private static String httpUrl(final CohortSyncConfig config, final CohortSyncService service) {
        return "http://" + config.httpAdvertisedHost() + ":" + service.httpPort();
    }

    private static String querySecurity(final CohortSyncConfig config) {
        return config.httpToken().isPresent()
            ? "queries and /metrics need Authorization: Bearer <http.token>; listening on " + config.httpHost()
            : "no http.token set: queries and /metrics are open, so it listens on 127.0.0.1 only";
    }
}
