package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.testing.GatewayFixture;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
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
    return ("PROXY TCP4 " + client + " 127.0.0.1 40000 " + gw.port() + "\r\n" + request)
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

  // why: the address is what the network rules (and bans, limits) judge, not the balancer's
  @Test
  void theNamedClientIsTheOneTheNetworkRulesJudge() throws Exception {
    GatewayFixture.RawResponse r = gw.raw(v1("203.0.113.7", get("/api/tags")), LB);
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.body()).contains("network.address_denied");
  }

  // why: a client that reaches the listener directly must not pick the address it is judged by
  @Test
  void aHeaderFromAnUntrustedPeerIsRefused() throws Exception {
    GatewayFixture.RawResponse r = gw.raw(v1("198.51.100.11", get("/api/tags")), "127.0.0.1");
    assertThat(r.status()).isEqualTo(-1);
    assertThat(auditLog()).doesNotContain("198.51.100.11");
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
