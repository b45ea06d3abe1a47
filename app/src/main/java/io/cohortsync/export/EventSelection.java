package io.cohortsync.export;

import java.util.List;
import java.util.Set;

/**
 * Which events an account exports (the seed's "Export Details"). ALL exports every event, Partner Sync included;
 * SELECTED exports the named events; ENGAGEMENT exports exactly the seed's engagement-event table, which does not
 * list Partner Sync (a system event): to export Partner Sync with the engagement events, use SELECTED and list them.
 */
public enum EventSelection {
    ALL,
    SELECTED,
    ENGAGEMENT;

    /** The seed's engagement events, in the seed's order (Push Impressions appears there twice; once here). */
    public static final List<String> ENGAGEMENT_EVENTS = List.of(
        "Notification Sent", "Notification Viewed", "Notification Clicked", "Push Impressions",
        "Notification Replied", "Push Unregistered", "Control Group", "Channel Unsubscribed", "Reachable By",
        "Notification Delivered", "AB Experiment Rendered", "AB Experiment Stopped", "AB Experiment Rolled Out",
        "Geocluster Entered", "Geocluster Exited", "Reply Sent", "App Uninstalled", "Webhook Delivered",
        "State Transitioned", "UTM Visited");

    private static final Set<String> ENGAGEMENT_SET = Set.copyOf(ENGAGEMENT_EVENTS);

    /** Event names match exactly (CleverTap event names are case-sensitive). */
    public boolean selects(final String eventName, final Set<String> selected) {
        return switch (this) {
            case ALL -> true;
            case SELECTED -> selected.contains(eventName);
            case ENGAGEMENT -> ENGAGEMENT_SET.contains(eventName);
        };
    }
}
