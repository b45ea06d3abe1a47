package io.cohortsync.runtime;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.metrics.CohortSyncMetrics;
import io.cohortsync.topology.Topics;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How the service answers an HTTP port it cannot have: what `run` prints, through StartupException. */
class HttpStartTest {

    @Test
    void aPortAnotherProcessHoldsIsAStartupErrorNamingTheFlagToChangeIt() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            final CohortSyncConfig config = CohortSyncConfig.of(Map.of("http.port",
                String.valueOf(taken.getLocalPort())), null);
            final Topics topics = Topics.create(config.topicPrefix(), config.serdeConfig());

            assertThatThrownBy(() -> CohortSyncService.startHttp(config, topics, "127.0.0.1:1",
                CohortSyncMetrics.prometheus(config.accounts().keySet())))
                .isInstanceOf(StartupException.class)
                .hasMessageContaining("cannot serve HTTP on 127.0.0.1:" + taken.getLocalPort())
                .hasMessageContaining("Address already in use")
                .hasMessageContaining("--set http.port=<free port>");
        }
    }
}
