package io.cohortsync.deadletter;

/** Why a decoded input is refused: the reason code and the message its dead letter carries. */
public record Rejection(ReasonCode reason, String message) {
}
