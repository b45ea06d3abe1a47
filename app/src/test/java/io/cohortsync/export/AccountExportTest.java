package io.cohortsync.export;

import io.cohortsync.avro.AmplitudeEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** How one account fills its requests after refusals and 413s, driven as the exporter's answer handlers do. */
class AccountExportTest {

    private static final Duration LINGER = Duration.ofMillis(20);

    private final PartitionProgress partition = new PartitionProgress(new TopicPartition("amplitude-export", 0));
    private final AccountExport account = new AccountExport("acct", new ExportSettings(null, null,
        URI.create("http://127.0.0.1:1"), null, null, Endpoint.HTTP_V2, null, null, 5), new ExporterSettings("group",
        LINGER, 4, 50_000, 0, Duration.ofSeconds(30), Duration.ofMillis(200), Duration.ofSeconds(30),
        Duration.ofSeconds(30), Duration.ofHours(1), Duration.ofSeconds(1), Path.of("dry.ndjson"), Duration.ofSeconds(5),
        1_000_000), (url, body, events) -> new CompletableFuture<>(), new ExportMetrics(new SimpleMeterRegistry(),
        "acct"));
    private long offset;
    private long now = 1_000_000_000L;

    @Test
    void eventsOfARequestRefusedWithoutNamingOneGoAgainOnlyAmongThemselvesInHalves() {
        addOneEventPerUser("old-user-", 100);
        final Batch refused = nextAfterLinger();
        assertThat(refused.events).hasSize(100);
        account.suspect(refused.events, refused.events.size() / 2);
        account.release(refused, now);
        addOneEventPerUser("new-user-", 10);

        final Batch firstHalf = account.nextBatch(now, event -> { });
        final Batch secondHalf = account.nextBatch(now, event -> { });
        final Batch fresh = nextAfterLinger();

        assertThat(firstHalf.events).hasSize(50).allMatch(PendingEvent::suspect);
        assertThat(secondHalf.events).hasSize(50).allMatch(PendingEvent::suspect);
        assertThat(fresh.events).hasSize(10).noneMatch(PendingEvent::suspect);
        // The halves of a refused half are halves again, whatever the other requests' answers meanwhile.
        account.succeeded(fresh);
        account.release(fresh, now);
        account.suspect(secondHalf.events, secondHalf.events.size() / 2);
        account.release(secondHalf, now);
        assertThat(account.nextBatch(now, event -> { }).events).hasSize(25).allMatch(PendingEvent::suspect);
    }

    @Test
    void aUsersLaterEventsWaitUntilItsSuspectsAreAcceptedInOrder() {
        final List<PendingEvent> user = new ArrayList<>();
        user.add(add("user-1"));
        user.add(add("user-1"));
        final Batch refused = nextAfterLinger();
        account.suspect(refused.events, 1);
        account.release(refused, now);
        user.add(add("user-1"));

        final List<List<PendingEvent>> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            final Batch batch = nextNowOrAfterLinger();
            sent.add(List.copyOf(batch.events));
            assertThat(account.nextBatch(now, event -> { })).as("the user is in flight").isNull();
            account.succeeded(batch);
            account.release(batch, now);
        }

        assertThat(sent).containsExactly(List.of(user.get(0)), List.of(user.get(1)), List.of(user.get(2)));
    }

    @Test
    void afterA413TheLimitGrowsBackAStepPerSuccessNotByDoubling() {
        addOneEventPerUser("user-", 5000);
        final Batch tooLarge = account.nextBatch(now, event -> { });
        final Batch concurrent = account.nextBatch(now, event -> { });
        assertThat(tooLarge.events).hasSize(2000);
        assertThat(concurrent.events).hasSize(2000);

        account.shrink(tooLarge);
        account.requeue(tooLarge.events);
        account.release(tooLarge, now);
        account.succeeded(concurrent);
        account.release(concurrent, now);
        final Batch afterStaleSuccess = account.nextBatch(now, event -> { });
        assertThat(afterStaleSuccess.events.size()).as("a success of a request sized before the 413 changes nothing")
            .isLessThanOrEqualTo(1000);

        account.succeeded(afterStaleSuccess);
        account.release(afterStaleSuccess, now);
        assertThat(account.nextBatch(now, event -> { }).events).as("one step: 2000 / 16 more events").hasSize(1125);
    }

    private void addOneEventPerUser(final String prefix, final int users) {
        for (int i = 0; i < users; i++) {
            add(prefix + i);
        }
    }

    private PendingEvent add(final String user) {
        final AmplitudeEvent event = AmplitudeEvent.newBuilder().setAccountId("acct").setEventType("Notification Sent")
            .setUserId(user).setDeviceId(null).setTime(0L).setInsertId(user + "-" + offset)
            .setEventProperties(Map.of()).setUserProperties(Map.of()).build();
        final byte[] json = ("{\"event_type\":\"Notification Sent\",\"user_id\":\"" + user + "\"}")
            .getBytes(StandardCharsets.UTF_8);
        final PendingEvent pending = new PendingEvent(partition, offset++, 0, null, null, event, json, now);
        partition.track(pending);
        account.add(pending, "acct|" + user, now);
        return pending;
    }

    /** Suspects go at once; other events linger first. */
    private Batch nextNowOrAfterLinger() {
        final Batch batch = account.nextBatch(now, event -> { });
        if (batch != null) {
            return batch;
        }
        now += LINGER.toNanos();
        return account.nextBatch(now, event -> { });
    }

    private Batch nextAfterLinger() {
        assertThat(account.nextBatch(now, event -> { })).as("a partly filled request lingers").isNull();
        now += LINGER.toNanos();
        return account.nextBatch(now, event -> { });
    }
}
