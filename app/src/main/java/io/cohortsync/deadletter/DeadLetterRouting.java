package io.cohortsync.deadletter;

import io.cohortsync.topology.Topics;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;

/** Sends the dead letters among a stage's outputs to the dead-letter topic. */
public final class DeadLetterRouting {

    private DeadLetterRouting() {
    }

    public static void route(final KStream<String, Object> outputs, final Topics topics, final String stage) {
        outputs
            .filter((key, value) -> value instanceof DeadLettered, Named.as(stage + "-dead-letters"))
            .map((key, value) -> {
                final DeadLettered dead = (DeadLettered) value;
                return KeyValue.pair(dead.key(), dead.letter());
            }, Named.as(stage + "-dead-letter-keys"))
            .to(topics.deadLetters.name(), topics.deadLetters.produced(stage + "-dead-letter-sink"));
    }
}
