package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.AccessLogCapture;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Network rules in listen, before any key is looked at: allow and deny lists (IPv4 and IPv6), the
 * IoC list, and client addresses behind trusted proxies. Every refusal is checked to have reached
 * nothing upstream, and every rule is shown letting other clients through. Clients at different
 * addresses are played from 127.0.0.0/8, all loopback on Linux.
 */
class NetworkRulesTest {

  static String tags(String key) {
    return "GET /api/tags HTTP/1.1\r\nHost: gatehouse.test\r\nAuthorization: Bearer "
        + key
        + "\r\nConnection: close\r\n\r\n";
  }

  static String tagsVia(String key, String forwardingHeader) {
    return "GET /api/tags HTTP/1.1\r\nHost: gatehouse.test\r\nAuthorization: Bearer "
        + key
        + "\r\n"
        + forwardingHeader
        + "\r\nConnection: close\r\n\r\n";
  }

  @Test
  void aDeniedAddressIsRefusedAndOthersAreServed() throws Exception {
    // why: network.deny shuts out one address before its key is even read
    try (GatewayFixture gw = GatewayFixture.start(Map.of("network.deny", "127.0.0.5"))) {
      String key = gw.newKey();
      RawResponse denied = gw.raw(tags(key), "127.0.0.5");
      assertThat(denied.status()).isEqualTo(403);
      assertThat(denied.body()).contains("\"code\":\"network.address_denied\"");
      assertThat(gw.upstream.requests()).isEmpty();
      assertThat(gw.raw(tags(key), "127.0.0.6").status()).isEqualTo(200);
      assertThat(gw.raw(tags(key), "127.0.0.1").status()).isEqualTo(200);
      assertThat(gw.upstream.requests()).hasSize(2);
    }
  }

  @Test
  void anAllowListAdmitsOnlyItsRangesAndDenyWinsOverIt() throws Exception {
    // why: network.allow turns the gateway into an allowlist; network.deny still carves out of it
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of("network.allow", "127.0.0.0/30", "network.deny", "127.0.0.3"))) {
      String key = gw.newKey();
      assertThat(gw.raw(tags(key), "127.0.0.2").status()).isEqualTo(200);
      assertThat(gw.upstream.requests()).hasSize(1);
      gw.upstream.reset();
      for (String outside : new String[] {"127.0.0.4", "127.0.0.9", "127.0.0.3"}) {
        RawResponse r = gw.raw(tags(key), outside);
        assertThat(r.status()).as(outside).isEqualTo(403);
        assertThat(r.body()).contains("\"code\":\"network.address_denied\"");
      }
      assertThat(gw.upstream.requests()).isEmpty();
    }
  }

  @Test
  void ipv6ClientsAreMatchedByIpv6Rules() throws Exception {
    // why: rules are family-aware: ::1 is matched by ::1/128, and not by an IPv4 catch-all
    try (GatewayFixture allowed =
            GatewayFixture.start(Map.of("listen", "[::1]:0", "network.allow", "::1/128"));
        GatewayFixture notListed =
            GatewayFixture.start(
                Map.of("listen", "[::1]:0", "network.allow", "0.0.0.0/0,2001:db8::/32"));
        GatewayFixture denied =
            GatewayFixture.start(Map.of("listen", "[::1]:0", "network.deny", "::/0"))) {
      assertThat(allowed.get("/api/tags", allowed.newKey()).statusCode()).isEqualTo(200);
      assertThat(allowed.upstream.requests()).hasSize(1);
      for (GatewayFixture gw : new GatewayFixture[] {notListed, denied}) {
        HttpResponse<String> r = gw.get("/api/tags", gw.newKey());
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("network.address_denied");
        assertThat(gw.upstream.requests()).isEmpty();
      }
    }
  }

  @Test
  void iocAddressesAreClosedUpFrontFromTheListAndTheFile() throws Exception {
    // why: known-hostile addresses get the cheapest refusal: the connection closes unanswered
    Path file = Files.createTempFile("ioc", ".txt");
    Files.writeString(
        file, "# January 2026 probing report\n204.76.203.125\n\n127.0.0.10  # a test address\n");
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of("network.ioc", "127.0.0.9", "network.ioc_file", file.toString()))) {
      String key = gw.newKey();
      for (String ioc : new String[] {"127.0.0.9", "127.0.0.10"}) {
        RawResponse r = gw.raw(tags(key), ioc);
        assertThat(r.status()).as(ioc).isEqualTo(-1);
        assertThat(r.head()).isEmpty();
      }
      assertThat(gw.upstream.requests()).isEmpty();
      assertThat(gw.raw(tags(key), "127.0.0.11").status()).isEqualTo(200);
    } finally {
      Files.delete(file);
    }
  }

  @Test
  void iocAddressesGetA403WhenSoConfigured() throws Exception {
    // why: bans.refusal: 403 answers instead, in the client's dialect
    try (GatewayFixture gw =
        GatewayFixture.start(Map.of("network.ioc", "127.0.0.9", "bans.refusal", "403"))) {
      RawResponse r = gw.raw(tags(gw.newKey()), "127.0.0.9");
      assertThat(r.status()).isEqualTo(403);
      assertThat(r.body()).contains("\"code\":\"network.client_banned\"").doesNotContain("IoC");
      assertThat(gw.upstream.requests()).isEmpty();
    }
  }

  @Test
  void forwardingHeadersAreIgnoredFromUntrustedPeers() throws Exception {
    // why: with no trusted proxy (the default), a client cannot pick the address it is judged by
    try (GatewayFixture gw = GatewayFixture.start(Map.of("network.deny", "198.51.100.7"));
        AccessLogCapture log = new AccessLogCapture()) {
      String key = gw.newKey();
      RawResponse r =
          gw.raw(
              tagsVia(key, "X-Forwarded-For: 198.51.100.7\r\nForwarded: for=198.51.100.7"),
              "127.0.0.12");
      assertThat(r.status()).isEqualTo(200);
      assertThat(log.await("ip=127.0.0.12 ", "path=/api/tags", "status=200")).isNotNull();
    }
  }

  @Test
  void behindATrustedProxyTheForwardedClientIsJudged() throws Exception {
    // why: behind a reverse proxy the real client, not the proxy, must meet the rules, IPv4 and
    // IPv6
    try (GatewayFixture gw =
            GatewayFixture.start(
                Map.of(
                    "network.trusted_proxies", "127.0.0.0/8",
                    "network.deny", "198.51.100.7,2001:db8:bad::/48"));
        AccessLogCapture log = new AccessLogCapture()) {
      String key = gw.newKey();
      String[] refused = {
        "X-Forwarded-For: 198.51.100.7",
        "X-Forwarded-For: 2001:db8:bad::1",
        // why: a chain of trusted proxies is walked from the right
        "X-Forwarded-For: 198.51.100.7, 127.0.0.2",
        "Forwarded: for=\"[2001:db8:bad::1]:4711\";proto=https",
        "Forwarded: for=198.51.100.7:1234",
      };
      for (String h : refused) {
        RawResponse r = gw.raw(tagsVia(key, h), "127.0.0.1");
        assertThat(r.status()).as(h).isEqualTo(403);
        // why: behind a proxy a refusal is always answered, never a closed connection the proxy
        // shares
        assertThat(r.body()).contains("network.address_denied");
      }
      assertThat(gw.upstream.requests()).isEmpty();
      // why: what the client wrote to the left of the last untrusted hop is never believed
      RawResponse spoofed =
          gw.raw(tagsVia(key, "X-Forwarded-For: 198.51.100.7, 203.0.113.5"), "127.0.0.1");
      assertThat(spoofed.status()).isEqualTo(200);
      assertThat(log.await("ip=203.0.113.5 ", "status=200")).isNotNull();
      // why: a garbage hop stops the walk at the proxy rather than inventing an address
      assertThat(
              gw.raw(tagsVia(key, "X-Forwarded-For: 198.51.100.7, unknown"), "127.0.0.13").status())
          .isEqualTo(200);
      assertThat(log.await("ip=127.0.0.13 ", "status=200")).isNotNull();
      // why: without a header the proxy itself is the client
      assertThat(gw.raw(tags(key), "127.0.0.14").status()).isEqualTo(200);
      assertThat(gw.upstream.requests()).hasSize(3);
    }
  }
}
