package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Host allowlist against DNS rebinding, and CORS: off by default, and when on, one explicit
 * origin echoed (never {@code *}, never with credentials), preflights answered without a key and
 * without reaching the upstream.
 */
class HostAndCorsTest {

  static GatewayFixture auto;
  static GatewayFixture listed;
  static GatewayFixture cors;
  static String autoKey;
  static String listedKey;
  static String corsKey;

  @BeforeAll
  static void start() throws Exception {
    // The product default: an empty allowed_hosts is automatic (this listener is loopback).
    auto = GatewayFixture.start(Map.of("network.allowed_hosts", ""));
    autoKey = auto.newKey();
    listed =
        GatewayFixture.start(Map.of("network.allowed_hosts", "llm.example.com,*.lan,192.168.1.10"));
    listedKey = listed.newKey();
    cors =
        GatewayFixture.start(
            Map.of("cors.origins", "https://app.example.com,http://localhost:3000"));
    corsKey = cors.newKey();
  }

  @AfterAll
  static void stop() {
    for (GatewayFixture gw : new GatewayFixture[] {auto, listed, cors}) {
      if (gw != null) {
        gw.close();
      }
    }
  }

  @BeforeEach
  void reset() {
    auto.upstream.reset();
    listed.upstream.reset();
    cors.upstream.reset();
  }

  static String get(String hostLine, String key) {
    return "GET /api/tags HTTP/1.1\r\n"
        + hostLine
        + "Authorization: Bearer "
        + key
        + "\r\nConnection: close\r\n\r\n";
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        // why: a rebinding attack carries the attacker's name; refused even with a valid key
        "Host: evil.example|403",
        "Host: evil.example:11435|403",
        // why: a name that merely contains localhost is not localhost
        "Host: localhost.evil.example|403",
        // why: the names a browser on this machine uses
        "Host: localhost|200",
        "Host: LOCALHOST:11435|200",
        "Host: app.localhost|200",
        "Host: 127.0.0.1:11435|200",
        "Host: 127.0.0.2|200",
        "Host: [::1]:11435|200",
        // why: a LAN address is not loopback: this listener is not reached that way by a browser
        "Host: 192.168.1.10|403",
      })
  void automaticHostCheckOnALoopbackListener(String hostLine, int status) throws Exception {
    RawResponse r = auto.raw(get(hostLine + "\r\n", autoKey));
    assertThat(r.status()).isEqualTo(status);
    if (status == 403) {
      assertThat(r.body()).contains("\"code\":\"network.host_denied\"");
      assertThat(auto.upstream.requests()).isEmpty();
    } else {
      assertThat(auto.upstream.requests()).hasSize(1);
    }
  }

  @Test
  void aRequestWithoutHostIsAcceptedInAutomaticModeOnly() throws Exception {
    // why: HTTP/1.0 without Host cannot come from a browser; a configured list wants a name
    String noHost = "GET /api/tags HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n";
    // (an HTTP/1.0 answer, which RawResponse leaves unparsed: its head is the whole text)
    assertThat(auto.raw(noHost.formatted(autoKey)).head()).startsWith("HTTP/1.0 200");
    assertThat(listed.raw(noHost.formatted(listedKey)).head()).startsWith("HTTP/1.0 403");
    assertThat(listed.upstream.requests()).isEmpty();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "Host: llm.example.com|200",
        "Host: LLM.Example.COM.:443|200",
        "Host: gpu.lan|200",
        "Host: a.b.lan|200",
        "Host: 192.168.1.10:11435|200",
        // why: *.lan is the subdomains, not lan itself
        "Host: lan|403",
        // why: a configured list replaces the automatic one, localhost included
        "Host: localhost|403",
        "Host: evil.example|403",
        "Host: llm.example.com.evil.example|403",
      })
  void aConfiguredHostList(String hostLine, int status) throws Exception {
    RawResponse r = listed.raw(get(hostLine + "\r\n", listedKey));
    assertThat(r.status()).isEqualTo(status);
    assertThat(listed.upstream.requests()).hasSize(status == 200 ? 1 : 0);
  }

  static String preflight(
      String gwHost, String origin, String method, String path, String headers) {
    return "OPTIONS "
        + path
        + " HTTP/1.1\r\nHost: "
        + gwHost
        + "\r\nOrigin: "
        + origin
        + "\r\nAccess-Control-Request-Method: "
        + method
        + "\r\n"
        + (headers == null ? "" : "Access-Control-Request-Headers: " + headers + "\r\n")
        + "Connection: close\r\n\r\n";
  }

  @Test
  void aPreflightFromAnAllowedOriginIsAnsweredWithoutAKeyOrTheUpstream() throws Exception {
    RawResponse r =
        cors.raw(
            preflight(
                "gatehouse.test",
                "https://app.example.com",
                "POST",
                "/v1/chat/completions",
                "authorization, content-type, x-stainless-os, x-evil"));
    assertThat(r.status()).isEqualTo(204);
    assertThat(r.head())
        .containsPattern("(?im)^access-control-allow-origin: https://app\\.example\\.com$")
        .containsPattern("(?im)^vary: origin$")
        .containsPattern("(?im)^access-control-allow-methods: POST$")
        // why: the SDK's headers are allowed; anything else is left for the browser to refuse
        .containsPattern(
            "(?im)^access-control-allow-headers: authorization, content-type, x-stainless-os$")
        .containsPattern("(?im)^access-control-max-age: 600$")
        // why: never a wildcard, and never credentials (keys travel in headers, not cookies)
        .doesNotContain("*")
        .doesNotContainPattern("(?i)allow-credentials");
    assertThat(cors.upstream.requests()).isEmpty();
  }

  @Test
  void aPreflightFromAnotherOriginGetsNoCorsHeaders() throws Exception {
    for (String origin :
        List.of(
            "https://evil.example",
            "https://app.example.com.evil.example",
            "null",
            "http://app.example.com")) {
      RawResponse r =
          cors.raw(
              preflight("gatehouse.test", origin, "POST", "/v1/chat/completions", "authorization"));
      assertThat(r.status()).as(origin).isEqualTo(401);
      assertThat(r.head()).as(origin).doesNotContainPattern("(?i)access-control-");
    }
    assertThat(cors.upstream.requests()).isEmpty();
  }

  @Test
  void aPreflightForAnUnknownRouteOrMethodGetsNoCorsHeaders() throws Exception {
    // why: the preflight is answered for what the API serves, not for any path a page names
    for (String[] c :
        List.of(
            new String[] {"POST", "/api/nope"}, new String[] {"DELETE", "/v1/chat/completions"})) {
      RawResponse r =
          cors.raw(preflight("gatehouse.test", "https://app.example.com", c[0], c[1], null));
      assertThat(r.status()).isEqualTo(401);
      assertThat(r.head()).doesNotContainPattern("(?i)access-control-");
    }
    assertThat(cors.upstream.requests()).isEmpty();
  }

  @Test
  void actualRequestsEchoOnlyAnAllowedOriginErrorsIncluded() throws Exception {
    String body = "{\"model\":\"llama3.2:3b\",\"messages\":[],\"stream\":false}";
    String req =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: gatehouse.test\r\nOrigin: %s\r\nAuthorization: Bearer %s\r\n"
            + "Content-Type: application/json\r\nContent-Length: "
            + body.length()
            + "\r\nConnection: close\r\n\r\n"
            + body;
    RawResponse ok = cors.raw(req.formatted("http://localhost:3000", corsKey));
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.head())
        .containsPattern("(?im)^access-control-allow-origin: http://localhost:3000$")
        .containsPattern("(?im)^access-control-expose-headers: X-Request-Id, Retry-After$")
        .containsPattern("(?im)^vary: origin$");
    // why: a page must be able to read a refusal too, or it only sees a network error
    RawResponse refused = cors.raw(req.formatted("http://localhost:3000", "gk_wrong"));
    assertThat(refused.status()).isEqualTo(401);
    assertThat(refused.head())
        .containsPattern("(?im)^access-control-allow-origin: http://localhost:3000$");
    RawResponse other = cors.raw(req.formatted("https://evil.example", corsKey));
    assertThat(other.status())
        .isEqualTo(200); // served (it had a key), but the browser withholds it
    assertThat(other.head()).doesNotContainPattern("(?i)access-control-");
    assertThat(cors.upstream.requests()).hasSize(2);
  }

  @Test
  void corsIsOffByDefault() throws Exception {
    RawResponse r =
        auto.raw(
            preflight(
                "localhost",
                "https://app.example.com",
                "POST",
                "/v1/chat/completions",
                "authorization"));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.head())
        .doesNotContainPattern("(?i)access-control-")
        .doesNotContainPattern("(?i)^vary:");
    assertThat(auto.upstream.requests()).isEmpty();
  }
}
