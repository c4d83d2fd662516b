package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.audit.AuditKey;
import dev.gatehouse.audit.AuditVerifier;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.testing.AccessLogCapture;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import dev.gatehouse.testing.Poll;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
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
 * Requests the strict framing check refuses before the pipeline sees them (bytes that are not
 * HTTP/1.x as framed, or past the decoder's limits) are accounted for as every refusal is: an audit
 * record under the request id the client was told, an access-log line, the metrics, and probe
 * scoring, so that a scanner sending only such bytes is banned like one sending requests. Raw bytes
 * on real sockets, each "client" from its own loopback address; the upstream receives nothing.
 */
class FramingRefusalsTest {

  static final String PROXY = "127.0.5.1";
  static final ObjectMapper JSON = new ObjectMapper();

  static final java.util.concurrent.atomic.AtomicInteger NEXT_CLIENT =
      new java.util.concurrent.atomic.AtomicInteger();

  static GatewayFixture gw;
  static AccessLogCapture access;
  static AccessLogCapture abuse;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    gw =
        GatewayFixture.start(
            Map.of(
                "probes.action", "ban",
                "bans.never", "",
                "bans.auth_failures", "0",
                "network.trusted_proxies", PROXY + "/32",
                "limits.max_body", "4KiB",
                "limits.max_blob", "8KiB"));
    key = gw.newKey();
    access = new AccessLogCapture("gatehouse.access");
    abuse = new AccessLogCapture("gatehouse.abuse");
  }

  @AfterAll
  static void stop() {
    access.close();
    abuse.close();
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  /** The audit records written so far, parsed. */
  static List<JsonNode> auditRecords() throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(gw.dataDir.resolve("audit.jsonl"))) {
      if (!line.isBlank()) {
        out.add(JSON.readTree(line));
      }
    }
    return out;
  }

  /** Waits for the audit record of {@code requestId}. */
  static JsonNode auditRecord(String requestId) throws Exception {
    return JSON.readTree(
        gw.awaitAuditLine(l -> l.contains("\"request_id\":\"" + requestId + "\"")));
  }

  static final Pattern REQUEST_ID = Pattern.compile("(?im)^X-Request-Id: ([0-9a-f]{16})$");

  static String requestId(RawResponse r) {
    Matcher m = REQUEST_ID.matcher(r.head());
    assertThat(m.find()).as("a request id in %s", r.head()).isTrue();
    return m.group(1);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** A TLS 1.2 ClientHello's first bytes: a client speaking https to the plain port. */
  static final byte[] TLS_HELLO =
      HexFormat.of().parseHex("160301006e0100006a03035f1c8a2e7b0000000000000000000000000000");

  /**
   * Probes as scanners and broken clients send them, each with what its audit record must say: the
   * status, the reason, and the method and path when its request line showed them.
   */
  static Stream<Arguments> probes() {
    String big = "x".repeat(5000);
    return Stream.of(
        Arguments.of("TLS ClientHello", TLS_HELLO, 400, "request.framing_invalid", "-", null),
        Arguments.of(
            "SSH banner",
            bytes("SSH-2.0-OpenSSH_9.6\r\n"),
            400,
            "request.framing_invalid",
            "-",
            null),
        Arguments.of(
            "RTSP",
            bytes("OPTIONS rtsp://192.0.2.1:554/ RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
            400,
            "request.framing_invalid",
            "OPTIONS",
            null),
        Arguments.of(
            "HTTP/3.0",
            bytes("GET /api/tags HTTP/3.0\r\nHost: a\r\n\r\n"),
            505,
            "request.version_unsupported",
            "GET",
            "/api/tags"),
        Arguments.of(
            "bare LF",
            bytes("GET /api/version HTTP/1.1\nHost: a\n\n"),
            400,
            "request.framing_invalid",
            "GET",
            "/api/version"),
        Arguments.of(
            "CL.TE smuggling",
            bytes(
                "POST /api/generate?token=secret-in-query HTTP/1.1\r\nHost: a\r\n"
                    + "Authorization: Bearer sk-framing-secret-0123456789\r\n"
                    + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"),
            400,
            "request.framing_invalid",
            "POST",
            "/api/generate"),
        Arguments.of(
            "obs-fold",
            bytes("GET /v1/models HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"),
            400,
            "request.framing_invalid",
            "GET",
            "/v1/models"),
        Arguments.of(
            "two Hosts",
            bytes("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            400,
            "request.host_invalid",
            "GET",
            "/"),
        Arguments.of(
            "request line past 8 KiB",
            bytes("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: a\r\n\r\n"),
            414,
            "request.target_too_long",
            "GET",
            "/" + "a".repeat(511)),
        Arguments.of(
            "Content-Length past the body limit",
            bytes("POST /api/chat HTTP/1.1\r\nHost: a\r\nContent-Length: 999999\r\n\r\n" + big),
            413,
            "request.body_too_large",
            "POST",
            "/api/chat"));
  }

  // why: before, these were answered and logged on gatehouse.listen only: no audit record, no
  // metrics, nothing for the alert rules, and the client's request id led nowhere
  @ParameterizedTest(name = "{0}")
  @MethodSource("probes")
  void eachRefusalIsAuditedUnderTheIdItWasAnsweredWith(
      String name, byte[] probe, int status, String reason, String method, String path)
      throws Exception {
    String ip = "127.0.7." + NEXT_CLIENT.incrementAndGet(); // each its own: five would be banned
    RawResponse r = gw.raw(probe, ip);
    assertThat(r.status()).as(name).isEqualTo(status);
    String id = requestId(r);
    JsonNode rec = auditRecord(id);
    assertThat(rec.path("ip").asText()).isEqualTo(ip);
    assertThat(rec.path("status").asInt()).isEqualTo(status);
    assertThat(rec.path("reason").asText()).isEqualTo(reason);
    assertThat(rec.path("decision").asText()).isEqualTo("deny");
    assertThat(rec.path("method").asText()).isEqualTo(method);
    if (path == null) {
      assertThat(rec.path("path").isNull()).as("no path: %s", rec).isTrue();
    } else {
      assertThat(rec.path("path").asText()).isEqualTo(path);
    }
    assertThat(rec.path("key_id").isNull()).isTrue();
    assertThat(rec.path("bytes_in").asLong()).as("no body was read").isZero();
    assertThat(rec.path("bytes_out").asLong()).isEqualTo(r.body().length());
    assertThat(rec.path("detail").asText()).isNotBlank();
    assertThat(access.await("id=" + id + " ", "status=" + status, "reason=" + reason)).isNotNull();
    assertThat(gw.upstream.requests()).isEmpty();
  }

  // why: the refused head carried a key and a token in its query; neither may reach a record
  @Test
  void nothingSecretOfARefusedHeadIsRecorded() throws Exception {
    RawResponse r =
        gw.raw(
            bytes(
                "POST /api/generate?token=secret-in-query HTTP/1.1\r\nHost: a\r\n"
                    + "Authorization: Bearer sk-framing-secret-0123456789\r\n"
                    + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"),
            "127.0.6.2");
    String id = requestId(r);
    auditRecord(id);
    String log = access.await("id=" + id + " ");
    String audit = Files.readString(gw.dataDir.resolve("audit.jsonl"));
    for (String text : List.of(audit, log)) {
      assertThat(text).doesNotContain("sk-framing-secret").doesNotContain("secret-in-query");
    }
    // an absolute-form target may carry userinfo: it is never recorded as a path
    RawResponse abs =
        gw.raw(
            bytes("GET http://user:pass-in-target@a/x HTTP/1.1\r\nHost: b\r\n\r\n"), "127.0.6.2");
    JsonNode rec = auditRecord(requestId(abs));
    assertThat(rec.path("path").isNull()).isTrue();
    assertThat(Files.readString(gw.dataDir.resolve("audit.jsonl")))
        .doesNotContain("pass-in-target");
  }

  // why: a scanner that sends only other protocols' greetings was answered each time and never
  // banned; five such in the window make the probe score's threshold
  @Test
  void aClientSendingOnlyMalformedBytesIsBannedAndNeverReachesTheUpstream() throws Exception {
    String ip = "127.0.6.3";
    List<byte[]> greetings =
        List.of(
            TLS_HELLO,
            bytes("SSH-2.0-Go\r\n"),
            bytes("OPTIONS sip:nm SIP/2.0\r\nVia: SIP/2.0/TCP nm\r\n\r\n"),
            bytes("\u0003\u0000\u0000\u0013\u000e\u00e0\u0000\u0000\u0000\u0000\u0000\u0001\u0000"),
            bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    for (int i = 0; i < greetings.size(); i++) {
      RawResponse r = gw.raw(greetings.get(i), ip);
      assertThat(r.status()).as("greeting %d is answered as before", i).isIn(400, 505);
      if (i < greetings.size() - 1) {
        assertThat(gw.store.findBan(ip)).as("not banned after %d", i + 1).isEmpty();
      }
    }
    assertThat(abuse.await("probe verdict ip=" + ip + " ", "malformed:10", "action=ban"))
        .isNotNull();
    Poll.until("the ban is stored", Duration.ofSeconds(5), () -> gw.store.findBan(ip).isPresent());
    // its next request, keyed and well formed, is closed unanswered
    assertThat(
            gw.raw(
                    "GET /api/tags HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
                        + key
                        + "\r\nConnection: close\r\n\r\n",
                    ip)
                .status())
        .isEqualTo(-1);
    assertThat(gw.upstream.requests()).isEmpty();
  }

  // why: nmap's service detection (-sV) against an HTTP port, in its order: two HTTP/1.0 requests
  // without a key, then probes of other protocols (RTSP, a Sun RPC call, a DNS query over TCP).
  // Before, only the first two counted, and the scan ran its whole course unbanned; by hand, nmap
  // 7.93 was banned on its fifth probe ("request.framing_invalid" for the others).
  @Test
  void nmapServiceDetectionIsBannedOnItsOwnProbes() throws Exception {
    String ip = "127.0.6.10";
    List<byte[]> probes =
        List.of(
            bytes("GET / HTTP/1.0\r\n\r\n"),
            bytes("OPTIONS / HTTP/1.0\r\n\r\n"),
            bytes("OPTIONS / RTSP/1.0\r\n\r\n"),
            // a Sun RPC call over TCP: record mark, xid, CALL, RPC version 2, portmapper, NULL
            HexFormat.of()
                .parseHex(
                    "80000028000000010000000000000002000186a00000000200000000"
                        + "0000000000000000000000000000000000000000"),
            // a DNS query over TCP: length, id, flags, one question for version.bind, CH TXT
            HexFormat.of()
                .parseHex("001e0006010000010000000000000776657273696f6e0462696e640000100003"));
    // the answers as ever: a 1.0 request's 401 has a 1.0 status line (as Go's server, Ollama's)
    String[] expected = {
      "HTTP/1.0 401 ", "HTTP/1.0 401 ", "HTTP/1.1 400 ", "HTTP/1.1 400 ", "HTTP/1.1 400 "
    };
    for (int i = 0; i < probes.size(); i++) {
      assertThat(gw.raw(probes.get(i), ip).head()).as("probe %d", i).startsWith(expected[i]);
    }
    assertThat(abuse.await("probe verdict ip=" + ip + " ", "malformed:6", "action=ban"))
        .isNotNull();
    Poll.until("the ban is stored", Duration.ofSeconds(5), () -> gw.store.findBan(ip).isPresent());
    RawResponse next =
        gw.raw(
            "GET /api/tags HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
                + key
                + "\r\nConnection: close\r\n\r\n",
            ip);
    assertThat(next.head()).as("closed unanswered").isEmpty();
    assertThat(gw.upstream.requests()).isEmpty();
  }

  // why: one malformed head that asks for a credential file is the same hard signal as a
  // well-formed one
  @Test
  void aMalformedRequestForACredentialFileIsAHardSignal() throws Exception {
    String ip = "127.0.6.4";
    RawResponse r = gw.raw(bytes("GET /.env HTTP/1.1\nHost: a\n\n"), ip);
    assertThat(r.status()).isEqualTo(400);
    assertThat(abuse.await("probe verdict ip=" + ip + " ", "hard=credential_path")).isNotNull();
    Poll.until("the ban is stored", Duration.ofSeconds(5), () -> gw.store.findBan(ip).isPresent());
  }

  // why: size limits are refusals a working client can reach (an image too large): they count as
  // refusals, not as malformed bytes
  @Test
  void limitRefusalsAreNotMalformedBytes() throws Exception {
    String ip = "127.0.6.5";
    for (int i = 0; i < 6; i++) {
      RawResponse r =
          gw.raw(
              bytes(
                  "POST /api/chat HTTP/1.1\r\nHost: a\r\nContent-Length: 999999\r\n\r\n"
                      + "x".repeat(100)),
              ip);
      assertThat(r.status()).isEqualTo(413);
      auditRecord(requestId(r));
    }
    assertThat(abuse.lines()).noneMatch(l -> l.contains("ip=" + ip + " "));
    assertThat(gw.store.findBan(ip)).isEmpty();
  }

  // why: a trusted proxy carries many clients; before a head names one, its bytes cannot be
  // charged to any of them, and a ban on the proxy would shut them all out
  @Test
  void aTrustedProxysMalformedBytesAreAuditedButNeverScored() throws Exception {
    for (int i = 0; i < 7; i++) {
      RawResponse r = gw.raw(bytes("SSH-2.0-OpenSSH_9.6\r\n"), PROXY);
      assertThat(r.status()).isEqualTo(400);
      assertThat(auditRecord(requestId(r)).path("ip").asText()).isEqualTo(PROXY);
    }
    assertThat(abuse.lines()).noneMatch(l -> l.contains("ip=" + PROXY + " "));
    assertThat(gw.store.findBan(PROXY)).isEmpty();
    RawResponse served =
        gw.raw(
            "GET /api/tags HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.7\r\n"
                + "Authorization: Bearer "
                + key
                + "\r\nConnection: close\r\n\r\n",
            PROXY);
    assertThat(served.status()).isEqualTo(200);
  }

  // why: a body that breaks the framing after its head went on cuts a request the pipeline is
  // serving: that request's one record says so, with the status the client was sent and the id it
  // was told, rather than "allow" and a client that went away. The head asks for 100 Continue, so
  // the body is sent only once the pipeline reads it (and the 100 must not count as the response)
  @Test
  void aBodyThatBreaksTheFramingIsRecordedOnceAsItsRequest() throws Exception {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress("127.0.6.6", 0));
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()), 10_000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(
          bytes(
              "POST /api/chat HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
                  + key
                  + "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                  + "Transfer-Encoding: chunked\r\n\r\n"));
      out.flush();
      String cont = readHead(in);
      assertThat(cont).startsWith("HTTP/1.1 100 Continue");
      out.write(bytes("5\r\n{\"a\":\r\nzz\r\n"));
      out.flush();
      String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(answer).startsWith("HTTP/1.1 400 ");
      String id = requestId(parse(answer));
      JsonNode rec = JSON.readTree(gw.awaitAuditLine(l -> l.contains("\"ip\":\"127.0.6.6\"")));
      assertThat(rec.path("path").asText()).isEqualTo("/api/chat");
      assertThat(rec.path("status").asInt()).isEqualTo(400);
      assertThat(rec.path("reason").asText()).isEqualTo("request.framing_invalid");
      assertThat(rec.path("decision").asText()).isEqualTo("deny");
      assertThat(rec.path("detail").asText()).contains(id);
      assertThat(auditRecords())
          .as("one record for the request")
          .filteredOn(r -> r.path("ip").asText().equals("127.0.6.6"))
          .hasSize(1);
    }
    assertThat(gw.upstream.requests()).isEmpty();
  }

  // why: bytes that break the framing while an earlier response on the connection is still owed
  // cannot be answered (a second response cannot be placed before the first): the connection is
  // closed, and the refusal is still on record, saying so; the request in flight is cut
  @Test
  void aRefusalWithAResponseOwedIsClosedUnansweredAndStillOnRecord() throws Exception {
    gw.upstream.firstByteDelay(5_000); // request 1 stays in flight while the bytes after it arrive
    String ip = "127.0.6.9";
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(ip, 0));
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()), 10_000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          bytes("GET /api/tags HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " + key + "\r\n\r\n"));
      out.flush();
      Poll.until(
          "the first request upstream",
          Duration.ofSeconds(10),
          () -> gw.upstream.requests().size() == 1);
      out.write(bytes("SSH-2.0-OpenSSH_9.6\r\n"));
      out.flush();
      byte[] got = s.getInputStream().readAllBytes();
      assertThat(new String(got, StandardCharsets.ISO_8859_1))
          .as("no answer: neither the owed one nor the refusal")
          .doesNotContain("HTTP/1.1 400");
    }
    JsonNode refusal =
        JSON.readTree(
            gw.awaitAuditLine(
                l ->
                    l.contains("\"ip\":\"" + ip + "\"")
                        && l.contains("\"reason\":\"request.framing_invalid\"")));
    assertThat(refusal.path("detail").asText())
        .contains("closed without an answer (a response was owed)");
    assertThat(refusal.path("bytes_out").asLong()).isZero();
    assertThat(gw.upstream.requests()).hasSize(1);
  }

  // why: the records of refusals join the hash chain like any other
  @Test
  void theChainHoldsWithFramingRefusalsInIt() throws Exception {
    RawResponse r = gw.raw(TLS_HELLO, "127.0.6.7");
    auditRecord(requestId(r));
    var verified =
        AuditVerifier.verifyLog(
            gw.dataDir,
            gw.dataDir.resolve(AuditWriter.CHECKPOINTS),
            AuditKey.load(gw.dataDir.resolve("audit-hmac.key")));
    assertThat(verified.ok()).as(verified.describe()).isTrue();
  }

  // why: the gateway's metrics count them by reason, as every refusal
  @Test
  void theMetricsCountThemByReason() throws Exception {
    RawResponse r = gw.raw(bytes("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), "127.0.6.8");
    auditRecord(requestId(r));
    assertThat(gw.gateway().metrics().scrape())
        .containsPattern(
            "gatehouse_refusals_total\\{reason=\"request.host_invalid\"[^}]*\\} [1-9]");
  }

  private static String readHead(InputStream in) throws java.io.IOException {
    StringBuilder b = new StringBuilder();
    while (!b.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      b.append((char) c);
    }
    return b.toString();
  }

  private static RawResponse parse(String text) {
    int split = text.indexOf("\r\n\r\n");
    return new RawResponse(
        Integer.parseInt(text.substring(9, 12)),
        split < 0 ? text : text.substring(0, split),
        split < 0 ? "" : text.substring(split + 4));
  }
}
