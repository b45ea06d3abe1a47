package io.cohortsync.identity;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A header on the profiles identity resolution creates, naming the index key it already wrote for the profile, so
 * that the profile table does not send that key through the index-updates topic again. It names the application id
 * too: a profile copied with its headers to another deployment (MirrorMaker keeps headers) is indexed in full there.
 */
final class IndexedKeyHeader {

    static final String NAME = "cohort-sync.indexed-key";
    private static final char SEPARATOR = '\n';

    private IndexedKeyHeader() {
    }

    static Headers of(final String applicationId, final String lookupKey) {
        final byte[] value = (applicationId + SEPARATOR + lookupKey).getBytes(StandardCharsets.UTF_8);
        return new RecordHeaders().add(NAME, value);
    }

    /** The key this application's identity resolution already indexed, or empty. */
    static Optional<String> read(final Headers headers, final String applicationId) {
        final Header header = headers.lastHeader(NAME);
        if (header == null || header.value() == null) {
            return Optional.empty();
        }
        final String value = new String(header.value(), StandardCharsets.UTF_8);
        final String prefix = applicationId + SEPARATOR;
        return value.startsWith(prefix) ? Optional.of(value.substring(prefix.length())) : Optional.empty();
    }
}
