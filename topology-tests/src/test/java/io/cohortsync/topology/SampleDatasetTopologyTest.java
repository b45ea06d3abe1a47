package io.cohortsync.topology;

import io.cohortsync.avro.Member;
import io.cohortsync.avro.PartnerSyncEvent;
import io.cohortsync.avro.Profile;
import io.cohortsync.avro.SyncReport;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.config.ImportSettings;
import io.cohortsync.sample.SampleDataset;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** produce-sample's data through the real topology: each style of account gets the outcomes its policy can give. */
class SampleDatasetTopologyTest extends TopologyDriverTest {

    private static final int USERS = 300;

    @Test
    void aBrazeStyleSampleIsMatchedByEachIdentifierAndYieldsPartnerSyncEvents() {
        final SampleDataset sample = produce("bz");
        final List<SyncReport> applied = applied(fx.reports(), sample);
        final long unknown = sample.requests().subList(0, sample.requests().size() - 1).stream()
            .flatMap(request -> request.getMembers().stream())
            .filter(member -> member.getUserId() != null && member.getUserId().startsWith("unknown-")).count();

        assertThat(sum(applied, SyncReport::getCreated) + sum(applied, SyncReport::getRejected)).isZero();
        assertThat(sum(applied, SyncReport::getUnmatched)).isEqualTo(unknown).isPositive();
        final int matched = sum(applied, SyncReport::getMatched);
        assertThat(matched).isEqualTo(sum(applied, SyncReport::getMembers) - unknown);
        assertThat(sum(applied, SyncReport::getAdded) + sum(applied, SyncReport::getRemoved)).isEqualTo(matched);
        assertThat(sum(applied, SyncReport::getRemoved)).isPositive();
        assertThat(fx.createdProfiles()).isEmpty();

        final List<KeyValue<String, PartnerSyncEvent>> events = fx.partnerSyncEvents();
        assertThat(events).hasSize(matched);
        final Map<String, Profile> profiles = sample.profiles().stream()
            .collect(Collectors.toMap(Profile::getObjectId, Function.identity()));
        final List<Profile> joined = events.stream().map(event -> profiles.get(event.value.getObjectId())).toList();
        assertThat(joined).as("matched by user_id").anyMatch(profile -> profile.getIdentity() != null);
        assertThat(joined).as("matched by alias").anyMatch(profile -> profile.getAliases().containsKey("braze_alias"));
        assertThat(joined).as("matched by device_id")
            .anyMatch(profile -> profile.getIdentity() == null && profile.getAliases().isEmpty());
    }

    @Test
    void aCleverTapStyleSampleMatchesCreatesAndRunsTheSeedScenarios() {
        final SampleDataset sample = produce("ct");
        final List<SyncReport> applied = applied(fx.reports(), sample);

        assertThat(sample.hasSeedScenarios()).isTrue();
        assertThat(sum(applied, SyncReport::getMatched)).isPositive();
        assertThat(sum(applied, SyncReport::getCreated)).isPositive();
        assertThat(sum(applied, SyncReport::getUnmatched) + sum(applied, SyncReport::getRejected)).isZero();
        assertThat(fx.partnerSyncEvents()).hasSize(sum(applied, SyncReport::getMembers));
    }

    private SampleDataset produce(final String accountId) {
        final ImportSettings settings = CohortSyncConfig.of(Map.of(), TopologyFixture.ACCOUNTS).account(accountId)
            .orElseThrow().importSettings();
        final SampleDataset sample = SampleDataset.generate(accountId, settings, USERS, 3, 100, 42L);
        sample.profiles().forEach(fx::profile);
        sample.requests().forEach(fx::request);
        return sample;
    }

    /** The reports of every batch but the sample's retried one, which must be the one duplicate. */
    private static List<SyncReport> applied(final List<SyncReport> reports, final SampleDataset sample) {
        assertThat(reports).hasSize(sample.requests().size());
        assertThat(reports).filteredOn(SyncReport::getDuplicate).hasSize(1);
        return reports.stream().filter(report -> !report.getDuplicate()).toList();
    }

    private static int sum(final List<SyncReport> reports, final ToIntFunction<SyncReport> count) {
        return reports.stream().mapToInt(count).sum();
    }
}
