package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.testing.GatewayFixture;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code listen.proxy_protocol}: raw bytes on a socket, as a TCP load balancer sends them. The load
 * balancer is played from 127.0.0.2 (the only trusted proxy); 127.0.0.1 plays a client that
 * connects directly and must not be able to name its own address.
 */
class ProxyProtocolTest {

  private static final String LB = "127.0.0.2";
  private static GatewayFixture gw;
  private static String key;

  @BeforeAll
  static void start() throws Exception {
    gw =
        GatewayFixture.start(
            Map.of(
                "listen.proxy_protocol", "true",
                "network.trusted_proxies", LB + "/32",
                "network.deny", "203.0.113.0/24"));
    key = gw.newKey();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  private static String get(String path) {
    return "GET "
        + path
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        + key
        + "\r\nConnection: close\r\n\r\n";
  }

  private static byte[] v1(String client, String request) {
    return v1(gw.port(), client, request);
  }

  /** A PROXY v1 header naming {@code client}, for a gateway on {@code port}, then the request. */
  private static byte[] v1(int port, String client, String request) {
    return ("PROXY TCP4 " + client + " 127.0.0.1 40000 " + port + "\r\n" + request)
        .getBytes(StandardCharsets.ISO_8859_1);
  }

  /** A PROXY v2 header (PROXY command, TCP over IPv4) followed by the request. */
  private static byte[] v2(int[] client, String request) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(
        new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
    b.write(0x21); // version 2, PROXY
    b.write(0x11); // AF_INET, STREAM
    b.write(0);
    b.write(12); // addresses: 4 + 4 + 2 + 2
    for (int octet : client) {
      b.write(octet);
    }
    b.writeBytes(new byte[] {127, 0, 0, 1});
    b.writeBytes(new byte[] {(byte) 0x9c, 0x40}); // source port 40000
    b.writeBytes(new byte[] {(byte) (gw.port() >> 8), (byte) gw.port()});
    b.writeBytes(request.getBytes(StandardCharsets.ISO_8859_1));
    return b.toByteArray();
  }

  private static String auditLog() throws Exception {
    return Files.readString(gw.dataDir.resolve("audit.jsonl"));
  }

  // why: the point of the setting: the client behind the load balancer is the one audited
  @Test
  void aV1HeaderFromTheLoadBalancerNamesTheClient() throws Exception {
    GatewayFixture.RawResponse r = gw.raw(v1("198.51.100.9", get("/api/tags")), LB);
    assertThat(r.status()).as(r.head()).isEqualTo(200);
    assertThat(auditLog()).contains("\"198.51.100.9\"");
  }

  // why: HAProxy's send-proxy-v2 sends the binary form
  @Test
  void aV2HeaderFromTheLoadBalancerNamesTheClient() throws Exception {
    GatewayFixture.RawResponse r = gw.raw(v2(new int[] {198, 51, 100, 10}, get("/api/tags")), LB);
    assertThat(r.status()).as(r.head()).isEqualTo(200);
    assertThat(auditLog()).contains("\"198.51.100.10\"");
  }

  // why: bytes the framing check refuses are charged to the client the header named (audited,
  // and scored), not to the load balancer, which carries every client
  @Test
  void aMalformedRequestBehindTheHeaderIsTheNamedClients() throws Exception {
    GatewayFixture.RawResponse r =
        gw.raw(v1("198.51.100.14", "GET /api/tags HTTP/1.1\nHost: a\n\n"), LB);
    assertThat(r.status()).as(r.head()).isEqualTo(400);
    Matcher id = Pattern.compile("(?im)^X-Request-Id: (\\S+)$").matcher(r.head());
    assertThat(id.find()).isTrue();
    String record = gw.awaitAuditLine(l -> l.contains("\"request_id\":\"" + id.group(1) + "\""));
    assertThat(record).contains("\"ip\":\"198.51.100.14\"").contains("request.framing_invalid");
  }

  // why: the address is what the network rules (and bans, limits) judge, not the balancer's
  @Test
  void theNamedClientIsTheOneTheNetworkRulesJudge() throws Exception {
    GatewayFixture.RawResponse r = gw.raw(v1("203.0.113.7", get("/api/tags")), LB);
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.body()).contains("network.address_denied");
  }

  // why: a client that reaches the listener directly must not pick the address it is judged by.
  // The request comes in the same packet as the header, so it is already in the gateway's buffer
  // when the peer is refused: closing the connection gracefully once let it be served anyway.
  @Test
  void aHeaderFromAnUntrustedPeerIsRefused() throws Exception {
    int reached = gw.upstream.requests().size(); // the class's tests run one after another
    for (int i = 0; i < 40; i++) {
      String request = get("/api/tags"); // served (and forwarded) if it were read
      byte[] bytes = i % 2 == 0 ? v1("198.51.100.11", request) : v2(UNTRUSTED_V2, request);
      GatewayFixture.RawResponse r = gw.raw(bytes, "127.0.0.1");
      assertThat(r.status()).as("attempt %d: %s", i, r.head()).isEqualTo(-1);
    }
    assertThat(gw.upstream.requests()).as("nothing reached the upstream").hasSize(reached);
    assertThat(auditLog()).doesNotContain("198.51.100.11").doesNotContain("198.51.100.13");
  }

  private static final int[] UNTRUSTED_V2 = {198, 51, 100, 13};

  // why: a named client over its connection cap is closed before anything it sent is served, even
  // when its request arrived with the header
  @Test
  void aNamedClientOverItsConnectionCapIsNotServed() throws Exception {
    try (GatewayFixture capped =
        GatewayFixture.start(
            Map.of(
                "listen.proxy_protocol", "true",
                "network.trusted_proxies", LB + "/32",
                "connections.max_per_ip", "2",
                "timeouts.header_read", "30s"))) {
      String k = capped.newKey();
      String partial = "GET /api/tags HTTP/1.1\r\nHost: x\r\nX-Slow: ";
      List<SocketChannel> held = new ArrayList<>();
      try {
        for (int i = 0; i < 2; i++) {
          held.add(open(capped, partial));
        }
        for (int i = 0; i < 200 && capped.openConnections() != 2; i++) {
          Thread.sleep(25);
        }
        assertThat(capped.openConnections()).isEqualTo(2);
        String full =
            "GET /api/tags HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + k
                + "\r\nConnection: close\r\n\r\n";
        for (int i = 0; i < 10; i++) {
          byte[] bytes = v1(capped.port(), "198.51.100.20", full);
          assertThat(capped.raw(bytes, LB).status()).isEqualTo(-1);
        }
        assertThat(capped.upstream.requests()).isEmpty();
      } finally {
        for (SocketChannel ch : held) {
          ch.close();
        }
      }
    }
  }

  // why: behind TLS the refused peer's request arrives encrypted, after the handshake: what TLS
  // decrypts must be dropped as well, not handed to the HTTP decoder
  @Test
  void anUntrustedPeerIsRefusedOverTlsToo() throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("gh-proxy-tls");
    Map<String, String> settings =
        new java.util.HashMap<>(
            GatewayFixture.selfSignedTls(
                dir, List.of("localhost", "127.0.0.1"), java.time.Duration.ofDays(1)));
    settings.put("listen.proxy_protocol", "true");
    settings.put("network.trusted_proxies", LB + "/32");
    try (GatewayFixture tls = GatewayFixture.start(settings)) {
      String k = tls.newKey();
      javax.net.ssl.SSLContext ctx = TlsListenerTest.trusting(dir.resolve("cert.pem"));
      for (String from : List.of(LB, "127.0.0.1")) {
        try (java.net.Socket raw = new java.net.Socket()) {
          raw.bind(new InetSocketAddress(from, 0));
          raw.connect(new InetSocketAddress("127.0.0.1", tls.port()), 5_000);
          raw.setSoTimeout(5_000);
          raw.getOutputStream().write(v1(tls.port(), "198.51.100.30", ""));
          String answer;
          try (javax.net.ssl.SSLSocket s =
              (javax.net.ssl.SSLSocket)
                  ctx.getSocketFactory().createSocket(raw, "localhost", tls.port(), false)) {
            s.startHandshake();
            s.getOutputStream()
                .write(
                    ("GET /api/tags HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                            + k
                            + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
          } catch (java.io.IOException closed) {
            answer = "";
          }
          if (from.equals(LB)) {
            assertThat(answer).as("the trusted balancer is served").startsWith("HTTP/1.1 200");
          } else {
            assertThat(answer).as("no answer for an untrusted peer").isEmpty();
          }
        }
      }
      assertThat(tls.upstream.requests()).as("the balancer's request alone").hasSize(1);
    }
  }

  /** A connection from the load balancer naming 198.51.100.20, holding a partial request. */
  private static SocketChannel open(GatewayFixture g, String partial) throws Exception {
    SocketChannel ch = SocketChannel.open();
    ch.bind(new InetSocketAddress(LB, 0));
    ch.connect(new InetSocketAddress("127.0.0.1", g.port()));
    ch.write(ByteBuffer.wrap(v1(g.port(), "198.51.100.20", partial)));
    return ch;
  }

  // why: a required header that is missing is not read as "the peer is the client"
  @Test
  void aConnectionWithoutTheHeaderIsRefused() throws Exception {
    assertThat(gw.raw(get("/api/tags").getBytes(StandardCharsets.ISO_8859_1), LB).status())
        .isEqualTo(-1);
  }

  // why: a malformed header (a fuzzer, a misconfigured balancer) closes the connection
  @Test
  void aGarbageHeaderIsRefused() throws Exception {
    byte[] garbage =
        ("PROXY TCP4 not-an-address 127.0.0.1 1 2\r\n" + get("/api/tags"))
            .getBytes(StandardCharsets.ISO_8859_1);
    assertThat(gw.raw(garbage, LB).status()).isEqualTo(-1);
    byte[] junk = ("PROXY GARBAGE\r\n" + get("/api/tags")).getBytes(StandardCharsets.ISO_8859_1);
    assertThat(gw.raw(junk, LB).status()).isEqualTo(-1);
  }

  // why: a client behind a TCP balancer writes its own X-Forwarded-For; it is never believed
  @Test
  void forwardedHeadersAreNotReadBehindTheProxyProtocol() throws Exception {
    String spoof =
        "GET /api/tags HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + key
            + "\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n";
    GatewayFixture.RawResponse r = gw.raw(v1("198.51.100.12", spoof), LB);
    assertThat(r.status()).as("not judged as the denied 203.0.113.9").isEqualTo(200);
  }

  // why: without trusted proxies every peer could send the header: refused at load
  @Test
  void theSettingNeedsTrustedProxies() {
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    null,
                    false,
                    Map.of(),
                    Map.of("listen.proxy_protocol", "true"),
                    ConfigChecks.ALL))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("listen.proxy_protocol");
  }
}
