package io.cohortsync.export;

import java.net.URI;
import java.util.Set;

/**
 * One account's export to Amplitude (ARCHITECTURE section 6), from the {@code export} section of the account in the
 * config file. Its toString never shows the API key (see {@link Secret}).
 *
 * @param apiKey      the Amplitude project's API key; empty means dry run (request bodies go to a local file)
 * @param residency   STANDARD (api2.amplitude.com) or EU (api.eu.amplitude.com)
 * @param baseUrl     overrides the residency's host when not null (tests, proxies); e.g. {@code http://127.0.0.1:8080}
 * @param deviceId    which fields become Amplitude's device_id
 * @param userId      which fields become Amplitude's user_id
 * @param endpoint    HTTP_V2 ({@code /2/httpapi}) or BATCH ({@code /batch})
 * @param events      ALL, SELECTED or ENGAGEMENT
 * @param selected    the event names SELECTED exports
 * @param minIdLength Amplitude's {@code min_id_length}: shorter ids are rejected (sent as {@code options})
 */
public record ExportSettings(Secret apiKey, Residency residency, URI baseUrl, IdMapping deviceId, IdMapping userId,
                             Endpoint endpoint, EventSelection events, Set<String> selected, int minIdLength) {

    public static final int DEFAULT_MIN_ID_LENGTH = 5;
    public static final IdMapping DEFAULT_DEVICE_ID =
        IdMapping.of(new IdField(IdField.Kind.DEVICE_ID, null), new IdField(IdField.Kind.OBJECT_ID, null));
    public static final IdMapping DEFAULT_USER_ID = IdMapping.of(new IdField(IdField.Kind.IDENTITY, null));

    public ExportSettings {
        apiKey = apiKey == null ? Secret.empty() : apiKey;
        residency = residency == null ? Residency.STANDARD : residency;
        deviceId = deviceId == null ? DEFAULT_DEVICE_ID : deviceId;
        userId = userId == null ? DEFAULT_USER_ID : userId;
        endpoint = endpoint == null ? Endpoint.HTTP_V2 : endpoint;
        events = events == null ? EventSelection.ALL : events;
        selected = selected == null ? Set.of() : Set.copyOf(selected);
    }

    /** The URL requests go to: the base URL (override, else the residency's host) plus the endpoint's path. */
    public URI url() {
        final String base = (baseUrl != null ? baseUrl : residency.baseUrl()).toString().replaceAll("/+$", "");
        return URI.create(base + endpoint.path());
    }

    /** No API key: the exporter writes the request bodies to a local file instead of sending them. */
    public boolean dryRun() {
        return apiKey.isEmpty();
    }

    public boolean selects(final String eventName) {
        return events.selects(eventName, selected);
    }
}
