package io.cohortsync.deadletter;

import io.cohortsync.avro.DeadLetter;

/** A stage's output bound for the dead-letter topic, keyed by the rejected record's original key bytes. */
public record DeadLettered(byte[] key, DeadLetter letter) {
}
