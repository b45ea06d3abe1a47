package io.cohortsync.config;

/** How an account treats cohort members that match no profile (ARCHITECTURE section 4). */
public enum ImportPolicy {
    /** CleverTap: match by identity or device id, and create a profile for a member that matches none. */
    CREATE_UNMATCHED,
    /** Braze: match existing profiles only, by an ordered identifier list; unmatched members are dropped. */
    MATCH_ONLY
}
