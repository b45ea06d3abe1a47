package io.cohortsync.ingest;

import io.cohortsync.avro.CohortSyncRequest;
import org.apache.kafka.common.serialization.Serde;

import java.time.Duration;

/** What the ingest stage needs to know. */
public record IngestSettings(String requestsTopic, Serde<CohortSyncRequest> requestSerde, int maxMembers,
                             int maxRecordBytes, int lookupGroups, Duration messageIdRetention) {
}
