package io.cohortsync.topology;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

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

    /** Closes the fixture and starts a new one with {@code settings} over the defaults: empty state. */
    protected void restartWith(final Map<String, String> settings) throws Exception {
        fx.close();
        fx = new TopologyFixture(settings);
    }
}
