package io.cohortsync.export;

import java.net.URI;

/** Amplitude's data residency: which ingestion host a project's events go to. */
public enum Residency {
    /** Amplitude's default (US) data center. */
    STANDARD("https://api2.amplitude.com"),
    /** Amplitude's EU data center. */
    EU("https://api.eu.amplitude.com");

    private final URI baseUrl;

    Residency(final String baseUrl) {
        this.baseUrl = URI.create(baseUrl);
    }

    public URI baseUrl() {
        return baseUrl;
    }
}
