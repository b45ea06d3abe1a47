package io.cohortsync.serde;

import java.util.Collection;
import java.util.Comparator;

/**
 * "Did you mean" for a misspelt configuration key: the serde's registry settings use it, and so does the service's
 * own configuration.
 */
public final class KeySuggestions {

    private static final int MAX_EDITS = 3;

    private KeySuggestions() {
    }

    /** "; did you mean 'x'?" for the known key closest to {@code key} (at most 3 edits away), or "". */
    public static String suggestion(final String key, final Collection<String> known) {
        return known.stream()
            .filter(candidate -> distance(key, candidate) <= MAX_EDITS)
            .min(Comparator.comparingInt(candidate -> distance(key, candidate)))
            .map(candidate -> "; did you mean '" + candidate + "'?")
            .orElse("");
    }

    /** Levenshtein distance. */
    static int distance(final String a, final String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                final int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            final int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
