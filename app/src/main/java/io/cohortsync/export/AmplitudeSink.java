package io.cohortsync.export;

import java.net.URI;
import java.util.concurrent.CompletableFuture;

/** Where the exporter's request bodies go: Amplitude over HTTP, or the dry-run file. */
public interface AmplitudeSink {

    /** Posts one JSON request body; the future completes with Amplitude's answer (never exceptionally). */
    CompletableFuture<AmplitudeResponse> post(URI url, byte[] body, int events);
}
