package io.cohortsync.config;

/** Everything cohort-sync knows about one platform account (project). */
public record AccountSettings(String accountId, ImportSettings importSettings, WebhookSettings webhook,
                              io.cohortsync.export.ExportSettings export) {

    /** The account's export to Amplitude, or empty when its config has no {@code export} section. */
    public java.util.Optional<io.cohortsync.export.ExportSettings> exportSettings() {
        return java.util.Optional.ofNullable(export);
    }
}
