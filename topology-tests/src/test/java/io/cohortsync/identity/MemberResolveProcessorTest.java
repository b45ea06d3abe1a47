package io.cohortsync.identity;

import io.cohortsync.internal.BatchInfo;
import io.cohortsync.internal.IndexOwners;
import io.cohortsync.internal.LookupChunk;
import io.cohortsync.internal.MemberLookup;
import io.cohortsync.internal.ParkedLookups;
import io.cohortsync.internal.ResolvedChunk;
import io.cohortsync.topology.InternalAvroSerde;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.MockProcessorContext.CapturedPunctuator;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The release punctuation of held chunks is scheduled only while chunks are held: Kafka Streams commits a task each
 * time one of its punctuators fires, so one on every idle task made every stream thread commit each commit interval.
 */
class MemberResolveProcessorTest {

    private final AtomicBoolean profilesLoaded = new AtomicBoolean(true);
    private final MockProcessorContext<String, Object> context = new MockProcessorContext<>();
    private final MemberResolveProcessor processor = new MemberResolveProcessor(profilesLoaded::get);
    private KeyValueStore<Long, ParkedLookups> heldStore;

    @BeforeEach
    void stores() {
        store(IdentityTopology.INDEX_STORE, Serdes.String(), InternalAvroSerde.of(IndexOwners.class));
        heldStore = store(IdentityTopology.HELD_LOOKUPS_STORE, Serdes.Long(),
            InternalAvroSerde.of(ParkedLookups.class));
    }

    @Test
    void withNothingHeldNoPunctuatorIsScheduled() {
        processor.init(context);
        processor.process(chunk("m1", 1_000));

        assertThat(context.scheduledPunctuators()).isEmpty();
        assertThat(resolvedMessageIds()).containsExactly("m1");
    }

    @Test
    void holdingAChunkSchedulesTheReleaseWhichIsCancelledOnceNothingIsHeld() {
        profilesLoaded.set(false);
        processor.init(context);
        assertThat(context.scheduledPunctuators()).isEmpty();

        processor.process(chunk("m1", 1_000));
        processor.process(chunk("m2", 2_000));
        assertThat(context.scheduledPunctuators()).hasSize(1);
        final CapturedPunctuator release = context.scheduledPunctuators().get(0);
        release.getPunctuator().punctuate(3_000);
        assertThat(release.cancelled()).as("still held: profiles not loaded").isFalse();

        profilesLoaded.set(true);
        release.getPunctuator().punctuate(4_000);

        assertThat(resolvedMessageIds()).containsExactly("m1", "m2");
        assertThat(release.cancelled()).isTrue();
        processor.process(chunk("m3", 5_000));
        assertThat(context.scheduledPunctuators()).hasSize(1);
        assertThat(resolvedMessageIds()).containsExactly("m1", "m2", "m3");
    }

    @Test
    void chunksHeldInTheRestoredStoreAreReleasedFromInit() {
        new HeldLookups(heldStore).hold(chunk("m1", 1_000).value(), 1_000);

        processor.init(context);

        assertThat(context.scheduledPunctuators()).hasSize(1);
        final CapturedPunctuator release = context.scheduledPunctuators().get(0);
        release.getPunctuator().punctuate(2_000);
        assertThat(resolvedMessageIds()).containsExactly("m1");
        assertThat(release.cancelled()).isTrue();
    }

    @Test
    void aRevivedTaskInitialisedAgainKeepsOneReleaseOnly() {
        profilesLoaded.set(false);
        processor.init(context);
        processor.process(chunk("m1", 1_000));

        processor.init(context);

        assertThat(context.scheduledPunctuators()).extracting(CapturedPunctuator::cancelled)
            .containsExactly(true, false);
    }

    private <K, V> KeyValueStore<K, V> store(final String name, final Serde<K> keys, final Serde<V> values) {
        final KeyValueStore<K, V> store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), keys, values)
            .withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
        return store;
    }

    private static Record<String, LookupChunk> chunk(final String messageId, final long timestamp) {
        final BatchInfo batch = new BatchInfo("ct", "c1", null, messageId, timestamp, "ADD", "INCREMENTAL");
        final MemberLookup lookup = new MemberLookup("identity|alice", false, "alice", null, null, null);
        return new Record<>("ct|c1", new LookupChunk(batch, 0, List.of(lookup)), timestamp);
    }

    private List<String> resolvedMessageIds() {
        return context.forwarded().stream()
            .map(forward -> forward.record().value())
            .filter(ResolvedChunk.class::isInstance)
            .map(value -> ((ResolvedChunk) value).getBatch().getMessageId())
            .toList();
    }
}
