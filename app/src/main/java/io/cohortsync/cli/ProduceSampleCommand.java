package io.cohortsync.cli;

import io.cohortsync.config.ImportSettings;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.runtime.ConsumerLag;
import io.cohortsync.sample.SampleDataset;
import io.cohortsync.topology.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

@Command(name = "produce-sample", mixinStandardHelpOptions = true,
    description = "Produce a realistic sample: profiles, then cohort sync batches whose members the account's import "
        + "policy and identifiers can match.")
final class ProduceSampleCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Option(names = "--account", defaultValue = "demo", description = "Account to produce for (default: ${DEFAULT-VALUE})")
    String account;

    @Option(names = "--users", defaultValue = "3000", description = "Amplitude users the cohorts are drawn from; "
        + "with 3 cohorts, 3000 users become about 1,800 profiles and 4,700 members in batches "
        + "for demo (default: ${DEFAULT-VALUE})")
    int users;

    @Option(names = "--cohorts", defaultValue = "3", description = "Cohorts (default: ${DEFAULT-VALUE})")
    int cohorts;

    @Option(names = "--batch-size", defaultValue = "1000", description = "Members per batch (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        requireAtLeastOne("--users", users);
        requireAtLeastOne("--cohorts", cohorts);
        requireAtLeastOne("--batch-size", batchSize);
        final ClientConnection connection = ClientConnection.resolve(options.load());
        final ImportSettings importSettings = connection.account(account).importSettings();
        final SampleDataset data = SampleDataset.generate(account, importSettings, users, cohorts, batchSize, 42L);
        final Topics topics = connection.topics();
        produce(connection, topics.profiles.name(), topics.profiles.valueSerde().serializer(), data.profiles(),
            p -> p.getAccountId() + "|" + p.getObjectId());
        System.out.printf("Produced %d profiles to %s; waiting for cohort-sync to index them...%n",
            data.profiles().size(), topics.profiles.name());
        awaitIndexed(connection, topics);
        produce(connection, topics.requests.name(), topics.requests.valueSerde().serializer(), data.requests(),
            r -> r.getAccountId() + "|" + r.getCohortId());
        final long members = data.requests().stream().mapToLong(r -> r.getMembers().size()).sum();
        System.out.printf("Produced %d cohort sync batches (%d members) to %s, among them %s, and one retried "
                + "duplicate.%nSee the result: java -jar app/target/cohort-sync.jar inspect partner-sync   (or: "
                + "inspect sync-reports)%n",
            data.requests().size(), members, topics.requests.name(), highlights(data, importSettings));
        return 0;
    }

    private String highlights(final SampleDataset data, final ImportSettings importSettings) {
        if (data.hasSeedScenarios()) {
            return "the seed's three scenarios (cohort " + SampleDataset.SCENARIO_COHORT_ID + ")";
        }
        return "members found by each of " + account + "'s identifiers " + importSettings.identifiers()
            + ", about 1 in 10 that no profile has (MATCH_ONLY creates none: they stay unmatched)";
    }

    private void requireAtLeastOne(final String option, final int value) {
        if (value < 1) {
            throw new ParameterException(spec.commandLine(), option + " must be at least 1, got " + value);
        }
    }

    /** Sends every value and waits until Kafka acknowledged each; fails, naming the topic, if one was refused. */
    static <V> void produce(final ClientConnection connection, final String topic, final Serializer<V> serializer,
                            final List<V> values, final java.util.function.Function<V, String> key)
        throws InterruptedException {
        final Map<String, Object> config = connection.clientConfig();
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
        try (KafkaProducer<String, V> producer = new KafkaProducer<>(config, new StringSerializer(), serializer)) {
            final List<Future<RecordMetadata>> acks = new ArrayList<>(values.size());
            for (final V value : values) {
                acks.add(producer.send(new ProducerRecord<>(topic, key.apply(value), value)));
            }
            producer.flush();
            for (final Future<RecordMetadata> ack : acks) {
                ack.get();
            }
        } catch (final ExecutionException e) {
            throw new IllegalStateException("Kafka did not take the records for " + topic + ": " + e.getCause()
                + "; is `run` running, and on the same topic prefix?", e.getCause());
        }
    }

    private void awaitIndexed(final ClientConnection connection, final Topics topics) throws InterruptedException {
        final String appId = connection.config().applicationId();
        try (Admin admin = Admin.create(connection.clientConfig())) {
            final boolean caughtUp = ConsumerLag.awaitCaughtUp(admin, appId, List.of(topics.profiles.name(),
                appId + "-" + IdentityTopology.INDEX_UPDATES_TOPIC + "-repartition"), Duration.ofMinutes(2));
            if (!caughtUp) {
                System.out.println("cohort-sync has not caught up on the profiles within 2 minutes; is `run` running?"
                    + " Producing the batches anyway: members whose profile is not indexed yet count as unknown "
                    + "users.");
            }
        }
    }

}
