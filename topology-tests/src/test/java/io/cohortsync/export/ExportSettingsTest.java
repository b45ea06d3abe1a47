package io.cohortsync.export;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.config.InvalidConfigException;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The accounts' export sections: residency URLs, endpoints, defaults, the secret, and errors that name the key. */
class ExportSettingsTest {

    private static ExportSettings export(final String yaml) {
        return CohortSyncConfig.of(Map.of(), "accounts:\n  a:\n    export:\n" + yaml.indent(6)).account("a")
            .orElseThrow().exportSettings().orElseThrow();
    }

    @Test
    void residencyAndEndpointPickTheUrl() {
        assertThat(export("residency: STANDARD").url()).isEqualTo(URI.create("https://api2.amplitude.com/2/httpapi"));
        assertThat(export("residency: EU").url()).isEqualTo(URI.create("https://api.eu.amplitude.com/2/httpapi"));
        assertThat(export("residency: eu\nendpoint: BATCH").url())
            .isEqualTo(URI.create("https://api.eu.amplitude.com/batch"));
        assertThat(export("endpoint: batch").url()).isEqualTo(URI.create("https://api2.amplitude.com/batch"));
        assertThat(export("residency: EU\nbase-url: http://127.0.0.1:9999/").url())
            .as("base-url overrides the residency's host").isEqualTo(URI.create("http://127.0.0.1:9999/2/httpapi"));
    }

    @Test
    void defaultsAreAllEventsIdentityAndDeviceThenCleverTapIdAndADryRun() {
        final ExportSettings settings = export("events: ALL");
        assertThat(settings.residency()).isEqualTo(Residency.STANDARD);
        assertThat(settings.endpoint()).isEqualTo(Endpoint.HTTP_V2);
        assertThat(settings.userId().toString()).isEqualTo("[identity]");
        assertThat(settings.deviceId().toString()).isEqualTo("[device_id, objectId]");
        assertThat(settings.minIdLength()).isEqualTo(5);
        assertThat(settings.dryRun()).isTrue();
        assertThat(CohortSyncConfig.of(Map.of(), "accounts:\n  a:\n    import: {}\n").account("a").orElseThrow()
            .exportSettings()).isEmpty();
    }

    @Test
    void theApiKeyComesFromAPlaceholderAndNeverShowsInToString() {
        final ExportSettings settings = export("api-key: ${NO_SUCH_VARIABLE_FOR_TEST:-s3cret-key-123}");
        assertThat(settings.apiKey().reveal()).isEqualTo("s3cret-key-123");
        assertThat(settings.dryRun()).isFalse();
        assertThat(settings.toString()).doesNotContain("s3cret-key-123").contains("****");
        assertThat(CohortSyncConfig.of(Map.of(), "accounts:\n  a:\n    export:\n      api-key: s3cret-key-123\n")
            .accounts().toString()).doesNotContain("s3cret-key-123");
        assertThat(EventJson.Envelope.of(settings.apiKey(), 5).toString()).doesNotContain("s3cret-key-123");
    }

    @Test
    void errorsNameTheSettingAndNeverTheKey() {
        assertThatThrownBy(() -> export("api-key: s3cret-key-123\nresidency: MARS"))
            .isInstanceOf(InvalidConfigException.class)
            .hasMessageContaining("accounts.a.export.residency").hasMessageNotContaining("s3cret-key-123");
        assertThatThrownBy(() -> export("api-key: s3cret-key-123\nevents: SELECTED"))
            .hasMessageContaining("accounts.a.export.selected").hasMessageNotContaining("s3cret-key-123");
        assertThatThrownBy(() -> export("api-key: s3cret-key-123\nuser-id: shoe_size"))
            .hasMessageContaining("accounts.a.export.user-id").hasMessageNotContaining("s3cret-key-123");
        assertThatThrownBy(() -> export("apikey: s3cret-key-123"))
            .hasMessageContaining("unknown setting accounts.a.export.apikey");
        assertThatThrownBy(() -> export("base-url: ftp://example.com"))
            .hasMessageContaining("accounts.a.export.base-url");
    }

    @Test
    void exporterSettingsHaveDocumentedDefaults() {
        final CohortSyncConfig config = CohortSyncConfig.of(Map.of("state-dir", "/tmp/x/state"), null);
        final ExporterSettings settings = ExporterSettings.from(config);
        assertThat(config.exportEnabled()).isTrue();
        assertThat(settings.groupId()).isEqualTo("cohort-sync-amplitude-exporter");
        assertThat(settings.dryRunFile().toString()).isEqualTo("/tmp/x/amplitude-requests.ndjson");
        assertThat(settings.throttleWait().toSeconds()).isEqualTo(30);
        assertThat(settings.eventsPerIdPerSecond(Endpoint.HTTP_V2)).isEqualTo(30);
        assertThat(settings.eventsPerIdPerSecond(Endpoint.BATCH)).isEqualTo(1000);
    }
}
