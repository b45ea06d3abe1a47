package io.cohortsync.embedded;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class EmbeddedConnectionTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    @Test
    void theFileRoundTripsAndTellsWhetherItsBrokerStillListens(@TempDir final Path dataDir) throws IOException {
        try (ServerSocket broker = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            new EmbeddedConnection("127.0.0.1:" + broker.getLocalPort(), "http://127.0.0.1:1/").writeTo(dataDir);
            final EmbeddedConnection read = EmbeddedConnection.readFrom(dataDir).orElseThrow();

            assertThat(read.bootstrapServers()).isEqualTo("127.0.0.1:" + broker.getLocalPort());
            assertThat(read.brokerListening(TIMEOUT)).isTrue();
            broker.close();
            assertThat(read.brokerListening(TIMEOUT)).isFalse();
        }
    }

    @Test
    void aBrokenAddressIsNotListening() {
        for (final String address : new String[] {"", "127.0.0.1", "127.0.0.1:port", "127.0.0.1:99999"}) {
            assertThat(new EmbeddedConnection(address, "http://x/").brokerListening(TIMEOUT)).as(address).isFalse();
        }
        assertThat(new EmbeddedConnection(null, null).brokerListening(TIMEOUT)).isFalse();
    }
}
