package io.cohortsync.config;

/** Everything cohort-sync knows about one platform account (project). */
public record AccountSettings(String accountId, ImportSettings importSettings) {
}
