package io.cohortsync.http;

import io.cohortsync.cli.CohortSyncCli;
import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.config.ConfigLayers;
import io.cohortsync.config.InvalidConfigException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The HTTP settings and the accounts' webhook passcodes, as the configuration layers read them. */
class HttpConfigTest {

    @Test
    void passcodesAreAListThatMayComeFromTheEnvironment() {
        final ConfigLayers layers = ConfigLayers.withDefaults(CohortSyncConfig.defaults(),
            Map.of("DEMO_PASSCODE", "from-env")::get);
        layers.yaml(stream("""
            accounts:
              demo:
                webhook:
                  passcodes: ["${DEMO_PASSCODE:-unused}", "${OTHER:-fallback}", plain]
              single:
                webhook:
                  passcodes: only-one
              none: {}
            """), "test");
        final CohortSyncConfig config = CohortSyncConfig.from(layers);

        assertThat(config.account("demo").orElseThrow().webhook().passcodes())
            .containsExactly("from-env", "fallback", "plain");
        assertThat(config.account("single").orElseThrow().webhook().passcodes()).containsExactly("only-one");
        assertThat(config.account("none").orElseThrow().webhook().passcodes()).isEmpty();
        assertThat(config.account("demo").orElseThrow().webhook().toString()).doesNotContain("from-env");
    }

    @Test
    void badWebhookSettingsAreClearErrorsThatNeverShowAPasscode() {
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(), webhook("passcode: x")))
            .hasMessageContaining("unknown setting accounts.a.webhook.passcode");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(), webhook("passcodes: ['', s3cret]")))
            .hasMessageContaining("accounts.a.webhook.passcodes must be non-blank").hasMessageNotContaining("s3cret");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of(), webhook("passcodes: ['${NOPE}']")))
            .isInstanceOf(InvalidConfigException.class).hasMessageContaining("${NOPE}");
    }

    @Test
    void withoutATokenTheServerStaysOnLocalhost() {
        final CohortSyncConfig open = CohortSyncConfig.of(Map.of(), null);
        assertThat(open.httpHost()).isEqualTo("127.0.0.1");
        assertThat(open.httpAdvertisedHost()).isEqualTo("127.0.0.1");
        assertThat(open.httpToken()).isEmpty();

        final CohortSyncConfig protectedOne = CohortSyncConfig.of(Map.of("http.token", "t"), null);
        assertThat(protectedOne.httpHost()).isEqualTo("0.0.0.0");

        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("http.host", "0.0.0.0"), null))
            .hasMessageContaining("http.token is not set");
        assertThatThrownBy(() -> CohortSyncConfig.of(Map.of("webhook.default-sync-type", "WEEKLY"), null))
            .hasMessageContaining("webhook.default-sync-type");
    }

    @Test
    void theDefaultsServePort8080AndTheEmbeddedDemoAccountHasAPasscode() throws Exception {
        assertThat(CohortSyncConfig.defaults()).containsEntry("http.port", "8080")
            .containsEntry("webhook.max-members-per-record", "1000")
            .containsEntry("webhook.max-body-bytes", "16777216");
        final ConfigLayers layers = ConfigLayers.withDefaults(CohortSyncConfig.defaults(), name -> null);
        try (InputStream in = CohortSyncCli.class.getResourceAsStream("/default-config.yaml")) {
            layers.yaml(in, "default-config.yaml");
        }
        final CohortSyncConfig config = CohortSyncConfig.from(layers);
        assertThat(config.httpPort()).isEqualTo(8080);
        assertThat(config.account("demo").orElseThrow().webhook().passcodes()).containsExactly("demo-passcode");
        // Tests and tools get a free port, so they never collide with a running service.
        assertThat(CohortSyncConfig.of(Map.of(), null).httpPort()).isZero();
    }

    private static String webhook(final String setting) {
        return "accounts:\n  a:\n    webhook:\n      " + setting + "\n";
    }

    private static InputStream stream(final String yaml) {
        return new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8));
    }
}
