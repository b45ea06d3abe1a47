package io.cohortsync.http;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One HTTP/1.1 exchange on a socket, for what the JDK client will not send: CR, LF, NUL or non-ASCII bytes in a
 * header or the request line, a repeated header, a length without its body, broken chunking, unknown methods.
 */
public final class RawHttp {

    private static final Logger LOG = LoggerFactory.getLogger(RawHttp.class);

    private RawHttp() {
    }

    public static HttpTestClient.Response exchange(final int port, final String head, final byte[] body,
                                                   final boolean halfClose) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            final OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            try {
                out.write(body);
                out.flush();
            } catch (final IOException e) {
                // The server may answer (413, 400) and close before the body is sent: read what it said.
                LOG.debug("The server stopped reading the body: {}", e.toString());
            }
            if (halfClose) {
                socket.shutdownOutput();
            }
            return read(socket.getInputStream());
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads the status line, the headers and a Content-Length (or to-the-end) body. */
    private static HttpTestClient.Response read(final InputStream in) throws IOException {
        HttpTestClient.Response response = readOne(in);
        while (response.status() >= 100 && response.status() < 200) {
            response = readOne(in);
        }
        return response;
    }

    private static HttpTestClient.Response readOne(final InputStream in) throws IOException {
        final ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            final int next = in.read();
            if (next == -1) {
                throw new IOException("the connection closed before the end of the headers: " + head);
            }
            head.write(next);
            matched = (next == '\r' && matched % 2 == 0) || (next == '\n' && matched % 2 == 1) ? matched + 1
                : next == '\r' ? 1 : 0;
        }
        final String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        final int status = Integer.parseInt(lines[0].split(" ")[1]);
        final Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 1; i < lines.length; i++) {
            final int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.computeIfAbsent(lines[i].substring(0, colon).trim(), h -> new ArrayList<>())
                    .add(lines[i].substring(colon + 1).trim());
            }
        }
        final List<String> length = headers.get("Content-Length");
        final byte[] body = status < 200 ? new byte[0] : length != null
            ? in.readNBytes(Integer.parseInt(length.get(0))) : in.readAllBytes();
        return new HttpTestClient.Response(status, new String(body, StandardCharsets.UTF_8), headers);
    }
}
