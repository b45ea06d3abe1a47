package io.cohortsync.cli;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.SyncType;
import io.cohortsync.http.AmplitudePayloadFile;
import io.cohortsync.topology.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "produce", mixinStandardHelpOptions = true,
    description = {"Produce cohort syncs from a file of Amplitude cohort webhook payloads (a JSON array of them, or "
        + "one after another, e.g. one per line), as the webhook would for the same calls: the same checks, splits "
        + "and message ids, so producing a file again is recognised as a duplicate.",
        "The whole file is checked before anything is produced."})
final class ProduceCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Option(names = "--file", required = true, description = "The payloads' file")
    Path file;

    @Option(names = "--account", required = true, description = "Account the payloads belong to")
    String account;

    @Option(names = "--sync-type", defaultValue = "REAL_TIME",
        description = "Sync type of every batch: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    SyncType syncType;

    @Override
    public Integer call() throws Exception {
        final ClientConnection connection = ClientConnection.resolve(options.load());
        connection.account(account);
        final List<CohortSyncRequest> requests = AmplitudePayloadFile.read(file, account, syncType,
            connection.config());
        final Topics topics = connection.topics();
        ProduceSampleCommand.produce(connection, topics.requests.name(), topics.requests.valueSerde().serializer(),
            requests, r -> r.getAccountId() + "|" + r.getCohortId());
        final long members = requests.stream().mapToLong(r -> r.getMembers().size()).sum();
        System.out.printf("Produced %d cohort sync batches (%d members) from %s to %s.%nSee the result: "
                + "java -jar app/target/cohort-sync.jar inspect partner-sync   (or: inspect sync-reports)%n",
            requests.size(), members, file, topics.requests.name());
        return 0;
    }
}
