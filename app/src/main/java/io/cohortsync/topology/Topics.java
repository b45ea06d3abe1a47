package io.cohortsync.topology;

import io.cohortsync.avro.AmplitudeEvent;
import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.DeadLetter;
import io.cohortsync.avro.EngagementEvent;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.serde.ConfluentAvroSerde;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

import java.util.List;
import java.util.Map;

/**
 * The typed registry of cohort-sync's topics (ARCHITECTURE section 3): names under a configurable prefix, and the
 * serdes of their records. Keys are plain UTF-8 strings; values are Avro in the Confluent wire format.
 */
public final class Topics {

    /** The names of {@link #all()} without the prefix, as the CLI's {@code inspect} takes them. */
    public static final List<String> SHORT_NAMES = List.of("requests", "profiles", "partner-sync",
        "engagement-events", "amplitude-export", "sync-reports", "dlq");

    public final Topic<String, CohortSyncRequest> requests;
    public final Topic<String, Profile> profiles;
    public final Topic<String, PartnerSyncEvent> partnerSync;
    public final Topic<String, EngagementEvent> engagementEvents;
    public final Topic<String, AmplitudeEvent> amplitudeExport;
    public final Topic<String, SyncReport> syncReports;
    public final Topic<byte[], DeadLetter> deadLetters;

    private Topics(final String prefix, final Map<String, Object> serdeConfig) {
        requests = topic(prefix + "requests", CohortSyncRequest.class, serdeConfig, false);
        profiles = topic(prefix + "profiles", Profile.class, serdeConfig, true);
        partnerSync = topic(prefix + "partner-sync", PartnerSyncEvent.class, serdeConfig, false);
        engagementEvents = topic(prefix + "engagement-events", EngagementEvent.class, serdeConfig, false);
        amplitudeExport = topic(prefix + "amplitude-export", AmplitudeEvent.class, serdeConfig, false);
        syncReports = topic(prefix + "sync-reports", SyncReport.class, serdeConfig, false);
        deadLetters = new Topic<>(prefix + "dlq", Serdes.ByteArray(), valueSerde(DeadLetter.class, serdeConfig), false);
    }

    public static Topics create(final String prefix, final Map<String, Object> serdeConfig) {
        return new Topics(prefix, serdeConfig);
    }

    public List<Topic<?, ?>> all() {
        return List.of(requests, profiles, partnerSync, engagementEvents, amplitudeExport, syncReports, deadLetters);
    }

    /**
     * The topics cohort-sync writes with the registry's schemas: its outputs, the dead letters, the profiles it
     * creates, and the requests its webhook produces. (Changelog and repartition topics skip the registry.)
     */
    public List<Topic<?, ?>> written() {
        return List.of(partnerSync, syncReports, profiles, amplitudeExport, deadLetters, requests);
    }

    /**
     * Registers (or looks up) the value schema of every topic cohort-sync writes, in the serdes the topology, the
     * webhook and the exporter use, so that no later write needs the registry: through a registry outage the service
     * keeps producing, the first dead letter or sync report included.
     *
     * @throws io.cohortsync.serde.SchemaRegistryUnavailableException when the registry cannot be reached
     */
    public void registerWrittenSchemas() {
        for (final Topic<?, ?> topic : written()) {
            if (topic.valueSerde() instanceof ConfluentAvroSerde<?> serde) {
                serde.registerSchema(topic.name());
            }
        }
    }

    public static <T extends SpecificRecord> Serde<T> valueSerde(final Class<T> type, final Map<String, Object> config) {
        return ConfluentAvroSerde.specific(type, config, false);
    }

    private static <V extends SpecificRecord> Topic<String, V> topic(final String name, final Class<V> type,
                                                                     final Map<String, Object> serdeConfig,
                                                                     final boolean compacted) {
        return new Topic<>(name, Serdes.String(), valueSerde(type, serdeConfig), compacted);
    }
}
