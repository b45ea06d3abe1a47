package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.avro.EngagementEvent;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.config.AccountSettings;
import io.cohortsync.deadletter.DeadLetterRouting;
import io.cohortsync.deadletter.Rejection;
import io.cohortsync.identity.IdentityTopology;
import io.cohortsync.membership.PartnerSyncEvents;
import io.cohortsync.topology.Topic;
import io.cohortsync.topology.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The export sub-topology: Partner Sync events and the platform's engagement events in, the events each account's
 * export settings select out, as {@link AmplitudeEvent}s on {@code cohort-sync.amplitude-export}, keyed
 * {@code <accountId>|<user_id or device_id>} so one Amplitude user's events stay in one partition, in order.
 *
 * <p>Id mappings may name profile fields (email, phone, a device id of the profile). Those are read from the profile
 * table the identity stage already keeps ({@link IdentityTopology#PROFILES_STORE}, keyed
 * {@code <accountId>|<objectId>} like both source topics): a topic cannot be a source twice in one topology, so the
 * export processors join that table's sub-topology instead of reading {@code cohort-sync.profiles} again. The lookup
 * is right when the source topics have as many partitions as {@code cohort-sync.profiles} (cohort-sync creates them
 * all with {@code topology.partitions}).
 */
public final class ExportTopology {

    private ExportTopology() {
    }

    /** Adds the sub-topology, unless no account has an export section (then nothing reads the source topics). */
    public static void addTo(final StreamsBuilder builder, final Topics topics,
                             final Map<String, AccountSettings> accountSettings, final int maxRecordBytes) {
        if (accountSettings.values().stream().noneMatch(account -> account.exportSettings().isPresent())) {
            return;
        }
        final Function<String, Optional<AccountSettings>> accounts =
            accountId -> Optional.ofNullable(accountSettings.get(accountId));
        // The profile-segments stage reads every record of partner-sync from the same source and dead-letters the
        // bad ones (ProfileSegmentsTopology), by the same rules: the export skips them, and dead-letters only what
        // is wrong for Amplitude.
        addSource(builder, topics, topics.partnerSync, "export-partner-sync", maxRecordBytes, accounts,
            (PartnerSyncEvent event, io.cohortsync.avro.Profile profile) -> ExportSource.of(event, profile),
            PartnerSyncEvents::problemWith, false);
        addSource(builder, topics, topics.engagementEvents, "export-engagement", maxRecordBytes, accounts,
            (EngagementEvent event, io.cohortsync.avro.Profile profile) -> ExportSource.of(event, profile),
            (key, event) -> Optional.empty(), true);
    }

    private static <T extends SpecificRecord> void addSource(
        final StreamsBuilder builder, final Topics topics, final Topic<String, T> source, final String stage,
        final int maxRecordBytes, final Function<String, Optional<AccountSettings>> accounts,
        final java.util.function.BiFunction<T, io.cohortsync.avro.Profile, ExportSource> toSource,
        final java.util.function.BiFunction<String, T, Optional<Rejection>> sourceRules,
        final boolean deadLettersBadInput) {
        final KStream<String, Object> outputs = builder
            .stream(source.name(), source.consumedRaw(stage + "-source"))
            .process(() -> new ExportEventProcessor<>(source.valueSerde().deserializer(), maxRecordBytes, toSource,
                accounts, sourceRules, deadLettersBadInput), Named.as(stage + "-select"),
                IdentityTopology.PROFILES_STORE);
        DeadLetterRouting.route(outputs, topics, stage);
        outputs
            .filter((key, value) -> value instanceof AmplitudeEvent, Named.as(stage + "-amplitude-events"))
            .mapValues(value -> (AmplitudeEvent) value, Named.as(stage + "-as-amplitude-event"))
            .to(topics.amplitudeExport.name(), topics.amplitudeExport.produced(stage + "-sink"));
    }
}
