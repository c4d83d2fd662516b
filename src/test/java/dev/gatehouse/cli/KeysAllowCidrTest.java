package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Per-key network rules: {@code keys create --allow-cidr} binds a key to address ranges, IPv4 and
 * IPv6, checked right after the key is identified; a rotated key keeps them.
 */
class KeysAllowCidrTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static GatewayFixture gw;
  static Map<String, String> env;

  @BeforeAll
  static void start() throws Exception {
    // Trusting loopback as a proxy lets the test present IPv6 clients through X-Forwarded-For.
    gw = GatewayFixture.start(Map.of("network.trusted_proxies", "127.0.0.0/8"));
    env = Map.of("GATEHOUSE_HOME", gw.dataDir.toString());
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  static String tags(String key, String xff) {
    return "GET /api/tags HTTP/1.1\r\nHost: gatehouse.test\r\nAuthorization: Bearer "
        + key
        + "\r\n"
        + (xff == null ? "" : "X-Forwarded-For: " + xff + "\r\n")
        + "Connection: close\r\n\r\n";
  }

  static JsonNode create(String... cidrs) throws Exception {
    String[] args = new String[5 + cidrs.length];
    args[0] = "keys";
    args[1] = "create";
    args[2] = "--name";
    args[3] = "bound";
    System.arraycopy(cidrs, 0, args, 4, cidrs.length);
    args[args.length - 1] = "--json";
    CliRun r = CliRun.run(env, args);
    assertThat(r.code()).as(r.err()).isZero();
    return JSON.readTree(r.out());
  }

  @Test
  void aBoundKeyWorksOnlyFromItsRanges() throws Exception {
    JsonNode k = create("--allow-cidr", "127.0.0.2/32", "2001:DB8:1::/48");
    assertThat(k.get("networks").toString()).isEqualTo("[\"127.0.0.2/32\",\"2001:db8:1::/48\"]");
    String key = k.get("key").asText();
    assertThat(gw.raw(tags(key, null), "127.0.0.2").status()).isEqualTo(200);
    assertThat(gw.raw(tags(key, "2001:db8:1::5"), "127.0.0.9").status()).isEqualTo(200);
    assertThat(gw.upstream.requests()).hasSize(2);
    gw.upstream.reset();
    for (String[] from :
        new String[][] {
          {"127.0.0.1", null}, {"127.0.0.9", "2001:db8:2::5"}, {"127.0.0.9", "198.51.100.1"}
        }) {
      RawResponse r = gw.raw(tags(key, from[1]), from[0]);
      assertThat(r.status()).isEqualTo(403);
      assertThat(r.body()).contains("\"code\":\"network.key_address_denied\"");
    }
    assertThat(gw.upstream.requests()).isEmpty();
    // why: the rule is the key's, not the address's: an unbound key works from the same place
    String free = gw.newKey();
    assertThat(gw.raw(tags(free, null), "127.0.0.1").status()).isEqualTo(200);
  }

  @Test
  void rotationKeepsTheRule() throws Exception {
    JsonNode k = create("--allow-cidr", "127.0.0.3");
    CliRun r = CliRun.run(env, "keys", "rotate", k.get("id").asText(), "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode rotated = JSON.readTree(r.out());
    assertThat(rotated.get("networks").toString()).isEqualTo("[\"127.0.0.3/32\"]");
    String key = rotated.get("key").asText();
    assertThat(gw.raw(tags(key, null), "127.0.0.3").status()).isEqualTo(200);
    assertThat(gw.raw(tags(key, null), "127.0.0.4").status()).isEqualTo(403);
  }

  @Test
  void aMalformedRangeIsAUsageError() {
    CliRun r = CliRun.run(env, "keys", "create", "--name", "x", "--allow-cidr", "10.0.0.0/33");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("--allow-cidr: 10.0.0.0/33 (expected: an IP address or CIDR range");
  }
}
