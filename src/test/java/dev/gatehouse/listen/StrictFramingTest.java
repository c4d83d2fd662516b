package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.GatewayFixture;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Strict HTTP/1.1 framing and Host rules ({@link StrictFraming}), as raw bytes on a real socket.
 * Every refused case asserts its status, that the connection was closed, that no second response
 * followed, and that the upstream received nothing: neither the request nor the one smuggled behind
 * it. Each smuggling case carries a second, valid-looking request in or after its body, so a
 * lenient reading would forward it.
 */
class StrictFramingTest {

  static GatewayFixture gw;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    gw = GatewayFixture.start(Map.of("limits.max_body", "4KiB", "limits.max_blob", "8KiB"));
    key = gw.newKey();
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.close();
    }
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  static final String BODY = "{\"model\":\"llama3.2:3b\",\"messages\":[]}";

  /** A complete second request: what a smuggler hides where a lenient parser reads a request. */
  static final String SMUGGLED =
      "GET /api/tags HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {KEY}\r\n\r\n";

  static String post(String framing, String body) {
    return "POST /api/chat HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {KEY}\r\n"
        + "Content-Type: application/json\r\n"
        + framing
        + "\r\n"
        + body;
  }

  static String chunked(String te, String chunks) {
    return post("Transfer-Encoding: " + te + "\r\n", chunks);
  }

  static String hex(String s) {
    return Integer.toHexString(s.length());
  }

  static final String CHUNKS = hex(BODY) + "\r\n" + BODY + "\r\n0\r\n\r\n";

  static String get(String headers) {
    return "GET /api/tags HTTP/1.1\r\n" + headers + "Authorization: Bearer {KEY}\r\n\r\n";
  }

  static Stream<Arguments> refused() {
    return Stream.of(
        // --- Transfer-Encoding with Content-Length (RFC 9112 §6.1: must close)
        // why: the classic CL.TE desync: a front proxy reads CL, Netty reads chunked
        Arguments.of(
            "TE chunked + CL",
            400,
            post(
                "Content-Length: "
                    + (CHUNKS.length() + SMUGGLED.length())
                    + "\r\nTransfer-Encoding: chunked\r\n",
                CHUNKS + SMUGGLED)),
        // why: the same with the headers the other way round
        Arguments.of(
            "CL + TE chunked",
            400,
            post("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", CHUNKS + SMUGGLED)),
        // why: CL of zero beside TE is still two framings
        Arguments.of(
            "TE + CL 0", 400, post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", CHUNKS)),
        // why: header names are case-insensitive; so is the check
        Arguments.of(
            "te + content-length lower case",
            400,
            post("content-length: 5\r\ntransfer-encoding: CHUNKED\r\n", CHUNKS)),
        // --- Transfer-Encoding other than one chunked coding on one line
        // why: a coding list; proxies disagree on which coding is final
        Arguments.of("TE chunked, identity", 400, chunked("chunked, identity", CHUNKS + SMUGGLED)),
        Arguments.of("TE identity, chunked", 400, chunked("identity, chunked", CHUNKS + SMUGGLED)),
        Arguments.of("TE gzip, chunked", 400, chunked("gzip, chunked", CHUNKS + SMUGGLED)),
        // why: chunked applied twice is not one chunked coding
        Arguments.of("TE chunked, chunked", 400, chunked("chunked, chunked", CHUNKS)),
        // why: an unknown coding was read as no body, so the body ran as the next request
        Arguments.of("TE unknown coding", 400, chunked("x-custom", SMUGGLED)),
        Arguments.of("TE identity", 400, chunked("identity", SMUGGLED)),
        Arguments.of("TE empty", 400, chunked("", SMUGGLED)),
        // why: a misspelling some parsers normalise
        Arguments.of("TE chunk", 400, chunked("chunk", CHUNKS)),
        Arguments.of("TE chunked;q=1", 400, chunked("chunked;q=1", CHUNKS)),
        Arguments.of("TE quoted", 400, chunked("\"chunked\"", CHUNKS)),
        // why: two TE lines, each fine alone
        Arguments.of(
            "two TE lines",
            400,
            post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", CHUNKS)),
        Arguments.of(
            "two TE lines, identity then chunked",
            400,
            post("Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n", CHUNKS)),
        // why: a vertical tab or form feed some parsers take for white space
        Arguments.of("TE with vertical tab", 400, chunked("\u000bchunked", CHUNKS)),
        // why: TE does not exist in HTTP/1.0; a 1.0 front proxy frames by CL or close
        Arguments.of(
            "TE on HTTP/1.0", 400, chunked("chunked", CHUNKS).replace("HTTP/1.1", "HTTP/1.0")),
        // --- chunk sizes
        // why: spaces around the size are trimmed by Netty and not by others
        Arguments.of(
            "chunk size with leading space", 400, chunked("chunked", " " + CHUNKS + SMUGGLED)),
        Arguments.of(
            "chunk size with trailing space",
            400,
            chunked("chunked", hex(BODY) + " \r\n" + BODY + "\r\n0\r\n\r\n" + SMUGGLED)),
        Arguments.of(
            "chunk size with trailing tab",
            400,
            chunked("chunked", hex(BODY) + "\t\r\n" + BODY + "\r\n0\r\n\r\n")),
        // why: 17 hex digits overflow 64 bits and were read as a small number
        Arguments.of(
            "chunk size of 17 hex digits",
            400,
            chunked("chunked", "10000000000000026\r\n" + BODY + "\r\n0\r\n\r\n" + SMUGGLED)),
        Arguments.of(
            "chunk size of 17 digits, leading zeros",
            400,
            chunked("chunked", "00000000000000026\r\n" + BODY + "\r\n0\r\n\r\n")),
        // why: 16 hex digits parse, but are far past the body limit
        Arguments.of(
            "chunk size past the body limit",
            413,
            chunked("chunked", "ffffffffffffffff\r\n" + BODY)),
        Arguments.of(
            "chunks whose total passes the limit",
            413,
            chunked("chunked", ("800\r\n" + "a".repeat(0x800) + "\r\n").repeat(3) + "0\r\n\r\n")),
        Arguments.of("chunk size 0x prefix", 400, chunked("chunked", "0x" + CHUNKS)),
        Arguments.of("chunk size with sign", 400, chunked("chunked", "+" + CHUNKS)),
        Arguments.of(
            "chunk size not hex", 400, chunked("chunked", "zz\r\n" + BODY + "\r\n0\r\n\r\n")),
        Arguments.of("empty chunk size", 400, chunked("chunked", "\r\n" + BODY + "\r\n0\r\n\r\n")),
        // why: chunk extensions are parsed differently by every proxy; no client sends them
        Arguments.of(
            "chunk extension",
            400,
            chunked("chunked", hex(BODY) + ";a=b\r\n" + BODY + "\r\n0\r\n\r\n")),
        Arguments.of(
            "chunk extension on the last chunk",
            400,
            chunked("chunked", hex(BODY) + "\r\n" + BODY + "\r\n0;x\r\n\r\n" + SMUGGLED)),
        // why: a bare LF ends a chunk line for some parsers, not for others
        Arguments.of(
            "chunk size ends in bare LF",
            400,
            chunked("chunked", hex(BODY) + "\n" + BODY + "\r\n0\r\n\r\n" + SMUGGLED)),
        // why: data longer than its size: the rest would be read as the next chunk line or request
        Arguments.of(
            "chunk data longer than its size",
            400,
            chunked("chunked", "5\r\n" + BODY + "\r\n0\r\n\r\n" + SMUGGLED)),
        Arguments.of(
            "chunk data without CRLF",
            400,
            chunked("chunked", hex(BODY) + "\r\n" + BODY + "0\r\n\r\n")),
        Arguments.of(
            "trailer with obs-fold",
            400,
            chunked("chunked", hex(BODY) + "\r\n" + BODY + "\r\n0\r\nX-T: a\r\n b\r\n\r\n")),
        // why: a decoder that merges trailers into the head (RFC 9110 §6.5.1 forbids it for these)
        // would frame or route by them after the body was framed by the head
        Arguments.of(
            "Content-Length in the trailers",
            400,
            chunked(
                "chunked",
                hex(BODY) + "\r\n" + BODY + "\r\n0\r\nContent-Length: 40\r\n\r\n" + SMUGGLED)),
        Arguments.of(
            "Transfer-Encoding in the trailers",
            400,
            chunked(
                "chunked",
                hex(BODY)
                    + "\r\n"
                    + BODY
                    + "\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + SMUGGLED)),
        Arguments.of(
            "Host in the trailers",
            400,
            chunked(
                "chunked",
                hex(BODY) + "\r\n" + BODY + "\r\n0\r\nhost: evil.example\r\n\r\n" + SMUGGLED)),
        // --- Content-Length
        // why: two lengths: which one frames the body?
        Arguments.of(
            "two Content-Length lines, different",
            400,
            post("Content-Length: " + BODY.length() + "\r\nContent-Length: 2\r\n", BODY)),
        Arguments.of(
            "two Content-Length lines, equal",
            400,
            post(
                "Content-Length: "
                    + BODY.length()
                    + "\r\nContent-Length: "
                    + BODY.length()
                    + "\r\n",
                BODY)),
        Arguments.of(
            "Content-Length list",
            400,
            post("Content-Length: " + BODY.length() + ", " + BODY.length() + "\r\n", BODY)),
        Arguments.of(
            "Content-Length with sign",
            400,
            post("Content-Length: +" + BODY.length() + "\r\n", BODY)),
        Arguments.of("Content-Length negative", 400, post("Content-Length: -1\r\n", BODY)),
        Arguments.of("Content-Length hex", 400, post("Content-Length: 0x26\r\n", BODY)),
        Arguments.of("Content-Length with inner space", 400, post("Content-Length: 3 8\r\n", BODY)),
        // why: 20 digits overflow a long
        Arguments.of(
            "Content-Length of 20 digits",
            400,
            post("Content-Length: 18446744073709551616\r\n", BODY)),
        Arguments.of(
            "Content-Length past every limit",
            413,
            post("Content-Length: 9223372036854775807\r\n", BODY)),
        Arguments.of("Content-Length empty", 400, post("Content-Length: \r\n", BODY)),
        // --- the head itself
        // why: obs-fold continues a header on the next line for some parsers only
        Arguments.of(
            "obs-fold", 400, get("Host: localhost\r\nX-A: 1\r\n Transfer-Encoding: chunked\r\n")),
        Arguments.of("obs-fold with tab", 400, get("Host: localhost\r\nX-A: 1\r\n\tmore\r\n")),
        // why: a bare CR is a line end for some parsers
        Arguments.of(
            "bare CR in a header value",
            400,
            get("Host: localhost\r\nX-A: 1\rTransfer-Encoding: chunked\r\n")),
        // why: a bare LF is a line end for Netty and not for strict front proxies
        Arguments.of("bare LF line end", 400, get("Host: localhost\nX-A: 1\r\n")),
        Arguments.of("LF-only head", 400, "GET /api/tags HTTP/1.1\nHost: localhost\n\n"),
        Arguments.of("NUL in a header value", 400, get("Host: localhost\r\nX-A: a\u0000b\r\n")),
        Arguments.of("NUL in a header name", 400, get("Host: localhost\r\nX-\u0000A: b\r\n")),
        Arguments.of("DEL in a header value", 400, get("Host: localhost\r\nX-A: a\u007fb\r\n")),
        Arguments.of("escape in a header value", 400, get("Host: localhost\r\nX-A: a\u001bb\r\n")),
        // why: "Transfer-Encoding : chunked" is TE for some parsers and an unknown field for others
        Arguments.of(
            "space before the colon",
            400,
            post("Transfer-Encoding : chunked\r\nContent-Length: " + BODY.length() + "\r\n", BODY)),
        Arguments.of("tab before the colon", 400, get("Host\t: localhost\r\n")),
        Arguments.of("header without a colon", 400, get("Host: localhost\r\nX-A\r\n")),
        Arguments.of("empty header name", 400, get("Host: localhost\r\n: value\r\n")),
        Arguments.of("non-token header name", 400, get("Host: localhost\r\nX(A): b\r\n")),
        // why: a NUL in the target was refused, but the pipelined follower was still forwarded
        Arguments.of(
            "NUL in the target, follower pipelined",
            400,
            "GET /api/tags\u0000 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {KEY}\r\n\r\n"
                + SMUGGLED),
        Arguments.of(
            "control char in the target",
            400,
            "GET /api/t\u0001ags HTTP/1.1\r\nHost: localhost\r\n\r\n" + SMUGGLED),
        Arguments.of(
            "tab in the target",
            400,
            "GET /api/\ttags HTTP/1.1\r\nHost: localhost\r\n\r\n" + SMUGGLED),
        Arguments.of(
            "two spaces in the request line",
            400,
            "GET  /api/tags HTTP/1.1\r\nHost: localhost\r\n\r\n" + SMUGGLED),
        Arguments.of(
            "method not a token",
            400,
            "G(T /api/tags HTTP/1.1\r\nHost: localhost\r\n\r\n" + SMUGGLED),
        // --- Host (RFC 9112 §3.2)
        // why: a 1.1 request must name its host; without one a virtual-host front proxy and
        // Gatehouse can disagree
        Arguments.of("no Host on 1.1", 400, get("")),
        Arguments.of("two Host headers, same", 400, get("Host: localhost\r\nHost: localhost\r\n")),
        Arguments.of(
            "two Host headers, different", 400, get("Host: localhost\r\nHost: evil.example\r\n")),
        Arguments.of("Host with userinfo", 400, get("Host: user@localhost\r\n")),
        Arguments.of("Host with userinfo and password", 400, get("Host: a:b@localhost\r\n")),
        Arguments.of("empty Host on 1.1", 400, get("Host: \r\n")),
        Arguments.of("Host with a space", 400, get("Host: local host\r\n")),
        Arguments.of("Host with a path", 400, get("Host: localhost/x\r\n")),
        Arguments.of("Host with two ports", 400, get("Host: localhost:1:2\r\n")),
        Arguments.of("Host with a long port", 400, get("Host: localhost:123456\r\n")),
        Arguments.of("Host percent-encoded", 400, get("Host: local%68ost\r\n")),
        Arguments.of("Host non-ASCII", 400, get("Host: l\u00f6calhost\r\n")),
        Arguments.of("Host bad IPv6 literal", 400, get("Host: [::1\r\n")),
        Arguments.of(
            "two Host headers on 1.0",
            400,
            get("Host: localhost\r\nHost: localhost\r\n").replace("HTTP/1.1", "HTTP/1.0")),
        // why: an absolute-form target names its own authority; it must agree with Host
        Arguments.of(
            "absolute-form disagreeing with Host",
            400,
            "GET http://evil.example/api/tags HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {KEY}\r\n\r\n"),
        // --- a request framed right but followed by a framing error: nothing after it is read
        // why: the error is on the second request; the smuggled third must never be forwarded
        Arguments.of(
            "error after a valid body",
            400,
            post("Content-Length: " + BODY.length() + "\r\n", BODY)
                + "GET /api/tags HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                + SMUGGLED));
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @MethodSource("refused")
  void framingErrorsAreRefusedClosedAndNeverForwarded(String name, int status, String request)
      throws Exception {
    Exchange r = exchange(request.replace("{KEY}", key));
    if (!name.equals("error after a valid body")) {
      assertThat(r.statuses()).as("%s:%n%s", name, r.text()).containsExactly(status);
      assertThat(gw.upstream.requests()).as("requests relayed for %s", name).isEmpty();
    } else {
      // The first request is valid and complete; it arrived in the same read as the error, and
      // nothing of such a read goes on, so at most its own answer precedes the refusal.
      assertThat(r.statuses()).as(r.text()).endsWith(status);
      assertThat(gw.upstream.requests())
          .as("requests relayed for %s", name)
          .hasSizeLessThanOrEqualTo(1);
      assertThat(gw.upstream.requests()).noneMatch(q -> q.uri().equals("/api/tags"));
    }
    assertThat(r.closed()).as("connection closed after %s", name).isTrue();
    assertThat(r.text()).as(name).containsIgnoringCase("connection: close");
    // the refusal says what is wrong in words, in either dialect, not a null
    assertThat(r.text()).as(name).containsPattern("\"(error|message)\":\"[a-z]");
  }

  /**
   * A TLS ClientHello on the plain port and other bytes that are not an HTTP/1.x request, as
   * scanners send them to tell servers apart. Each is refused by the strict framing check in
   * Gatehouse's own format (HTTP/1.1, a request id, JSON with a code and a message), never in
   * Netty's words (an empty {@code HTTP/1.0 400}, or {@code RTSP/1.0 501}, echoing the probe's
   * protocol). Most never complete a head: they are refused as soon as the request line shows they
   * cannot be one, not after the head's timeout.
   */
  static Stream<Arguments> foreign() {
    byte[] tls13 = new byte[80];
    tls13[0] = 0x16; // handshake record, TLS 1.0 record version, ClientHello
    tls13[1] = 0x03;
    tls13[2] = 0x01;
    tls13[3] = 0x00;
    tls13[4] = 0x4b;
    tls13[5] = 0x01;
    byte[] sslv2 = {(byte) 0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10};
    return Stream.of(
        // why: TLS spoken to the plain-text port (a client or a scanner's TLS probe)
        Arguments.of("TLS ClientHello", 400, latin1(tls13)),
        Arguments.of("SSLv2-compatible hello", 400, latin1(sslv2)),
        Arguments.of("three bytes of a TLS record", 400, "\u0016\u0003\u0001"),
        // why: other protocols' first words (nmap's service probes send these)
        Arguments.of("SSH banner", 400, "SSH-2.0-OpenSSH_9.6\r\n"),
        Arguments.of("RTSP request line", 400, "OPTIONS rtsp://localhost/ RTSP/1.0\r\n"),
        Arguments.of(
            "RTSP request, whole", 400, "OPTIONS rtsp://localhost/ RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
        Arguments.of("SIP request line", 400, "OPTIONS sip:nm SIP/2.0\r\nVia: SIP/2.0/TCP nm\r\n"),
        Arguments.of("Redis PING", 400, "*1\r\n$4\r\nPING\r\n"),
        Arguments.of("an HTTP response sent as a request", 400, "HTTP/1.1 200 OK\r\n"),
        Arguments.of("NUL bytes", 400, "\u0000\u0000\u0000\u0000"),
        // why: HTTP/0.9's simple request has no version; its head never ends
        Arguments.of("HTTP/0.9 simple request", 400, "GET /api/tags\r\n"),
        // why: no space after the method: a second method word, a tab
        Arguments.of("tab after the method", 400, "GET\t/api/tags HTTP/1.1\r\n"),
        // why: a request line past the decoder's limit, still without its CRLF
        Arguments.of("request line over 8 KiB, unfinished", 414, "GET /" + "a".repeat(9000)),
        // why: versions other than 1.0 and 1.1: 505, not Netty's 501 echoing the version
        Arguments.of("HTTP/3.0", 505, "GET /api/tags HTTP/3.0\r\nHost: localhost\r\n\r\n"),
        Arguments.of("h2c prior-knowledge preface", 505, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        Arguments.of("HTTP/1.10", 400, "GET /api/tags HTTP/1.10\r\nHost: localhost\r\n\r\n"));
  }

  private static String latin1(byte[] b) {
    return new String(b, StandardCharsets.ISO_8859_1);
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @MethodSource("foreign")
  void foreignBytesAreRefusedAtOnceInGatehousesOwnFormat(String name, int status, String bytes)
      throws Exception {
    Exchange r = exchange(bytes);
    // answered and closed at once: the exchange reads for 5 s, and the head's timeout
    // (timeouts.header_read, 10 s by default) would have closed it only after that
    assertThat(r.closed()).as("%s closed", name).isTrue();
    assertThat(r.text()).as(name).startsWith("HTTP/1.1 " + status + " ");
    assertThat(r.statuses()).as(name).containsExactly(status);
    assertThat(r.text()).as(name).containsPattern("(?i)\r\nx-request-id: [0-9a-f]{16}\r\n");
    String body = r.text().substring(r.text().indexOf("\r\n\r\n") + 4);
    com.fasterxml.jackson.databind.JsonNode json =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
    assertThat(json.path("code").asText()).as(name).startsWith("request.");
    assertThat(json.path("error").isTextual()).as(name).isTrue();
    assertThat(gw.upstream.requests()).as(name).isEmpty();
  }

  @Test
  void theTableIsLarge() {
    assertThat(refused().count()).isGreaterThanOrEqualTo(60);
  }

  /** Valid framings still work, pipelining included, and each is forwarded once. */
  static Stream<Arguments> accepted() {
    return Stream.of(
        // why: the ordinary JSON POST of every SDK
        Arguments.of(
            "Content-Length body",
            post("Content-Length: " + BODY.length() + "\r\nConnection: close\r\n", BODY),
            1),
        // why: chunked uploads (Node's fetch with a stream body), with a trailer
        Arguments.of(
            "chunked with trailer",
            chunked(
                "chunked\r\nConnection: close",
                hex(BODY) + "\r\n" + BODY + "\r\n0\r\nX-Trailer: t\r\n\r\n"),
            1),
        // why: upper-case hex digits and several chunks
        Arguments.of(
            "chunked in pieces",
            chunked(
                "Chunked\r\nConnection: close",
                "A\r\n"
                    + BODY.substring(0, 10)
                    + "\r\n"
                    + hex(BODY.substring(10)).toUpperCase()
                    + "\r\n"
                    + BODY.substring(10)
                    + "\r\n0\r\n\r\n"),
            1),
        // why: OWS around a field value is allowed
        Arguments.of(
            "OWS around values",
            post("Content-Length:\t" + BODY.length() + " \r\nConnection: close\r\n", BODY),
            1),
        // why: a leading empty line before the request line may be ignored (RFC 9112 §2.2)
        Arguments.of(
            "leading CRLF",
            "\r\n" + post("Content-Length: " + BODY.length() + "\r\nConnection: close\r\n", BODY),
            1),
        // why: keep-alive pipelining of two valid requests; both are answered in order
        Arguments.of(
            "two pipelined requests",
            post("Content-Length: " + BODY.length() + "\r\n", BODY)
                + get("Host: localhost\r\nConnection: close\r\n"),
            2),
        // why: HTTP/1.0 needs no Host
        Arguments.of(
            "HTTP/1.0 without Host",
            "GET /api/tags HTTP/1.0\r\nAuthorization: Bearer {KEY}\r\n\r\n",
            1),
        // why: IPv6 literal and port forms of Host
        Arguments.of(
            "Host IPv6 literal with port", get("Host: [::1]:11435\r\nConnection: close\r\n"), 1),
        Arguments.of("Host with port", get("Host: 127.0.0.1:11435\r\nConnection: close\r\n"), 1));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("accepted")
  void validFramingsAreForwarded(String name, String request, int count) throws Exception {
    Exchange r = exchange(request.replace("{KEY}", key));
    assertThat(r.statuses()).as("%s:%n%s", name, r.text()).hasSize(count).allMatch(s -> s == 200);
    assertThat(gw.upstream.requests()).as(name).hasSize(count);
  }

  @Test
  void aBodyArrivingInManyReadsIsFramedAcrossThem() throws Exception {
    // why: the checker keeps its place across TCP reads, one byte at a time at worst
    String request =
        chunked("chunked\r\nConnection: close", hex(BODY) + "\r\n" + BODY + "\r\n0\r\n\r\n")
            .replace("{KEY}", key);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()), 5000);
      s.setTcpNoDelay(true);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      for (byte b : request.getBytes(StandardCharsets.ISO_8859_1)) {
        out.write(b);
        out.flush();
      }
      String text = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(text).startsWith("HTTP/1.1 200");
    }
    assertThat(gw.upstream.requests()).hasSize(1);
    assertThat(gw.upstream.requests().get(0).body())
        .startsWith(BODY.substring(0, BODY.length() - 1));
  }

  @Test
  void aHeadHeldBackIsHandedOnWholeBehindAPipelinedRequest() throws Exception {
    // why: the part of a head that came in an earlier read is held until the head is complete, then
    // handed on ahead of the read that completed it, behind whatever went on before it
    String first = post("Content-Length: " + BODY.length() + "\r\n", BODY).replace("{KEY}", key);
    String second = get("Host: localhost\r\nConnection: close\r\n").replace("{KEY}", key);
    int cut = second.indexOf("Host");
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()), 5000);
      s.setTcpNoDelay(true);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write((first + second.substring(0, cut)).getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      Thread.sleep(150);
      out.write(second.substring(cut).getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String text = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(STATUS_LINE.matcher(text).results().map(m -> m.group(1)))
          .as(text)
          .containsExactly("200", "200");
    }
    assertThat(gw.upstream.requests())
        .extracting(q -> q.uri())
        .containsExactly("/api/chat", "/api/tags");
  }

  @Test
  void aBadFieldLineInAnUnfinishedHeadIsAnsweredByGatehouseOnceTheHeadEnds() throws Exception {
    // why: Netty's decoder refused a bad field line as soon as the next line came, in its own
    // words (an empty 400 without a request id); it no longer sees a head before the check has
    // passed it whole
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()), 5000);
      s.setTcpNoDelay(true);
      s.setSoTimeout(300);
      OutputStream out = s.getOutputStream();
      out.write(
          "GET /api/tags HTTP/1.1\r\nHost: localhost\r\nX(Bad): 1\r\nX-Next: 2\r\n"
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      org.junit.jupiter.api.Assertions.assertThrows(SocketTimeoutException.class, in::read);
      s.setSoTimeout(5000);
      out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String text = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(text).startsWith("HTTP/1.1 400 ").containsIgnoringCase("x-request-id: ");
      assertThat(text).contains("\"code\":\"request.framing_invalid\"");
    }
    assertThat(gw.upstream.requests()).isEmpty();
  }

  @Test
  void aContinueIsNotTheResponseItPrecedes() throws Exception {
    // why: Vert.x writes 100 Continue as a full response, and the check counted it as the request's
    // answer: from then on it took every refusal on the connection for one with a response still
    // owed, and closed without answering (a body broken after the 100, a bad next head)
    String first =
        post("Expect: 100-continue\r\nContent-Length: " + BODY.length() + "\r\n", "")
            .replace("{KEY}", key);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()), 5000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(first.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      assertThat(readResponse(in)).startsWith("HTTP/1.1 100 Continue");
      out.write(BODY.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      assertThat(readResponse(in)).startsWith("HTTP/1.1 200 ");
      out.write(
          "GET /api/tags HTTP/1.1\nHost: localhost\n\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String text = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(text).startsWith("HTTP/1.1 400 ").contains("request.framing_invalid");
    }
    assertThat(gw.upstream.requests()).extracting(q -> q.uri()).containsExactly("/api/chat");
  }

  /** One response off a keep-alive connection: its head, and its body by length or chunks. */
  private static String readResponse(InputStream in) throws java.io.IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (!b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        return b.toString(StandardCharsets.ISO_8859_1);
      }
      b.write(c);
    }
    String head = b.toString(StandardCharsets.ISO_8859_1);
    if (head.startsWith("HTTP/1.1 1")) {
      return head;
    }
    Matcher cl = Pattern.compile("(?im)^content-length: *(\\d+)").matcher(head);
    if (cl.find()) {
      b.write(in.readNBytes(Integer.parseInt(cl.group(1))));
      return b.toString(StandardCharsets.ISO_8859_1);
    }
    while (!b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n0\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      b.write(c);
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  private static final Pattern STATUS_LINE = Pattern.compile("(?m)^HTTP/1\\.[01] (\\d{3}) ");

  /** What came back on one connection: every status line, the text, and whether it closed. */
  record Exchange(java.util.List<Integer> statuses, String text, boolean closed) {}

  private static Exchange exchange(String request) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()), 5000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      boolean closed;
      byte[] buf = new byte[8192];
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          got.write(buf, 0, n);
        }
        closed = true;
      } catch (SocketTimeoutException e) {
        closed = false;
      } catch (SocketException e) {
        closed = true; // reset
      }
      String text = got.toString(StandardCharsets.ISO_8859_1);
      java.util.List<Integer> statuses = new java.util.ArrayList<>();
      Matcher m = STATUS_LINE.matcher(text);
      while (m.find()) {
        statuses.add(Integer.parseInt(m.group(1)));
      }
      return new Exchange(statuses, text, closed);
    }
  }
}
