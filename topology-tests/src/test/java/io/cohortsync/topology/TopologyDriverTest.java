package io.cohortsync.topology;

import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.util.List;
import java.util.Map;

/** A fresh {@link TopologyFixture} (the service's own topology in a TopologyTestDriver) for every test. */
abstract class TopologyDriverTest {

    protected TopologyFixture fx;

    @BeforeEach
    void startFixture() throws Exception {
        fx = new TopologyFixture();
    }

    @AfterEach
    void stopFixture() {
        fx.close();
    }

    /**
     * Closes the fixture and starts a new one with {@code settings} over the defaults and these {@code accounts}, on
     * the state the closed one left: the next run of a deployment whose configuration changed.
     */
    protected void restartOnTheSameStateWith(final Map<String, String> settings, final String accounts)
        throws Exception {
        final Map<String, List<KeyValue<Object, Object>>> state = fx.stateStores();
        fx.close();
        fx = new TopologyFixture(settings, accounts);
        fx.restoreStateStores(state);
    }

    /** As {@link #restartWith(Map)}, with these {@code accounts}: empty state. */
    protected void restartWith(final Map<String, String> settings, final String accounts) throws Exception {
        fx.close();
        fx = new TopologyFixture(settings, accounts);
    }

    /** Closes the fixture and starts a new one with {@code settings} over the defaults: empty state. */
    protected void restartWith(final Map<String, String> settings) throws Exception {
        fx.close();
        fx = new TopologyFixture(settings);
    }
}
