package io.cohortsync.faults;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The scan the fault suites rely on does catch a secret in a log line, a stack trace or a child's output. */
class SecretScanTest {

    private static final Logger LOG = LoggerFactory.getLogger("io.cohortsync.faults.leaky");

    @Test
    void aSecretInALogMessageFailsTheScan() {
        final SecretScan scan = new SecretScan();
        scan.start();
        LOG.warn("calling Amplitude with key {}", FaultSecrets.API_KEY);
        assertThatThrownBy(() -> scan.stopAndVerify("leaky suite"))
            .isInstanceOf(AssertionError.class).hasMessageContaining("leaky suite");
    }

    @Test
    void aSecretInAStackTraceFailsTheScan() {
        final SecretScan scan = new SecretScan();
        scan.start();
        LOG.error("request failed", new IllegalStateException("bad passcode " + FaultSecrets.PASSCODE));
        assertThatThrownBy(() -> scan.stopAndVerify("leaky suite")).isInstanceOf(AssertionError.class);
    }

    @Test
    void aSecretInAScannedFileFailsTheScan(@org.junit.jupiter.api.io.TempDir final Path dir) throws Exception {
        final Path output = Files.writeString(dir.resolve("child.log"), "token=" + FaultSecrets.HTTP_TOKEN);
        final SecretScan scan = new SecretScan();
        scan.start();
        LOG.info("child process started");
        SecretScan.alsoScan(output);
        assertThatThrownBy(() -> scan.stopAndVerify("leaky suite")).isInstanceOf(AssertionError.class);
    }

    @Test
    void cleanLogsPass() {
        final SecretScan scan = new SecretScan();
        scan.start();
        LOG.info("calling Amplitude with key ****");
        assertThatCode(() -> scan.stopAndVerify("clean suite")).doesNotThrowAnyException();
    }
}
