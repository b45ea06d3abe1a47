package io.cohortsync.deadletter;

import io.cohortsync.avro.CohortSyncRequest;
import io.cohortsync.avro.Member;
import io.cohortsync.avro.Operation;
import io.cohortsync.serde.AvroDecodingLimits;
import io.cohortsync.topology.Topics;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A record that claims a length or an item count its bytes cannot hold is dead-lettered without Avro allocating the
 * claim first: before, a 29-byte request made each decode allocate 64 MiB, so a stream of them kept the heap busy.
 */
class LengthClaimAllocationTest {

    private static final String TOPIC = "t.requests";
    /** Far below the claims (60-64 MiB), far above what decoding a small record costs. */
    private static final long MAX_ALLOCATED = 1 << 20;

    private static Topics topics;
    private static InputDecoder<CohortSyncRequest> decoder;
    private static byte[] emptyRequest;

    @BeforeAll
    static void setUp() {
        AvroDecodingLimits.install();
        topics = Topics.create("t.", Map.of("schema.registry.url", "mock://length-claims-" + UUID.randomUUID()));
        decoder = new InputDecoder<>(topics.requests.valueSerde().deserializer(), 8 << 20);
        emptyRequest = serialize(request(List.of()));
    }

    @Test
    void anArrayClaimingMillionsOfItemsIsRefusedWithoutAllocatingThem() {
        // The last byte is the empty members array's count, 0: claim 16 Mi - 1 members instead.
        final byte[] record = withTail(Arrays.copyOf(emptyRequest, emptyRequest.length - 1), zigzag((16 << 20) - 1));

        assertRefusedCheaply(record);
    }

    @Test
    void aStringClaimingSixtyMebibytesIsRefusedWithoutAllocatingThem() {
        // The accountId's length follows the 5-byte header: claim 60 MiB for it, then one byte of text.
        final byte[] record = withTail(Arrays.copyOf(emptyRequest, 5), zigzag(60 << 20), new byte[] {'a'});

        assertRefusedCheaply(record);
    }

    @Test
    void realRecordsStillDecodeAsWritten() {
        final CohortSyncRequest request = request(List.of(
            Member.newBuilder().setUserId("u1").setUserProperties(Map.of("plan", "pro", "email", "a@b.c")).build(),
            Member.newBuilder().setDeviceId("d2").build()));

        assertThat(decoder.decode(TOPIC, serialize(request)).value()).isEqualTo(request);
        assertThat(decoder.decode(TOPIC, emptyRequest).value()).isEqualTo(request(List.of()));
    }

    private static void assertRefusedCheaply(final byte[] record) {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        final long before = threads.getCurrentThreadAllocatedBytes();
        final InputDecoder.Result<CohortSyncRequest> result = decoder.decode(TOPIC, record);
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(result.reason()).isEqualTo(ReasonCode.DESERIALIZATION_FAILED);
        assertThat(allocated).as("bytes allocated decoding a %d-byte record", record.length)
            .isLessThan(MAX_ALLOCATED);
    }

    private static CohortSyncRequest request(final List<Member> members) {
        return CohortSyncRequest.newBuilder().setAccountId("a").setCohortId("c").setMessageId("m")
            .setComputedAt(Instant.EPOCH).setOperation(Operation.ADD).setMembers(members).build();
    }

    private static byte[] serialize(final CohortSyncRequest request) {
        return topics.requests.valueSerde().serializer().serialize(TOPIC, request);
    }

    /** Avro's variable-length zig-zag encoding of a long. */
    private static byte[] zigzag(final long value) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        long n = (value << 1) ^ (value >> 63);
        while ((n & ~0x7FL) != 0) {
            out.write((int) ((n & 0x7F) | 0x80));
            n >>>= 7;
        }
        out.write((int) n);
        return out.toByteArray();
    }

    private static byte[] withTail(final byte[] head, final byte[]... tails) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head);
        Arrays.stream(tails).forEach(out::writeBytes);
        return out.toByteArray();
    }
}
