package io.cohortsync.http;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.BufferUtil;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Jetty answers some requests itself, before any route: a malformed request line or header (CR, NUL or a folded
 * line in a header, two Content-Lengths, broken chunking), headers over 8 KiB (431), a URI over 8 KiB (414), an
 * unknown HTTP version (505). Its default body is an HTML page; this one is the same JSON error as everywhere else,
 * so a client parses every error the same way. Nothing of the request is echoed: only Jetty's short reason.
 */
final class JsonErrorHandler extends ErrorHandler {

    @Override
    public ByteBuffer badMessageError(final int status, final String reason, final HttpFields.Mutable fields) {
        if (HttpStatus.hasNoBody(status)) {
            return BufferUtil.EMPTY_BUFFER;
        }
        fields.put(HttpHeader.CONTENT_TYPE, Json.CONTENT_TYPE);
        final String why = reason == null || reason.isBlank() ? HttpStatus.getMessage(status) : reason;
        return ByteBuffer.wrap(Json.bytes(Map.of("error", "the HTTP request was refused before it reached cohort-sync ("
            + status + " " + why + "); nothing was read or produced")));
    }
}
