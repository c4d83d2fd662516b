package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.abuse.BanExport;
import dev.gatehouse.testing.GatewayFixture;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code gatehouse bans} against the data directory of a running gateway: a ban by hand holds from
 * the client's next request, on a connection it already has open too, without a restart; removal
 * likewise. The export is checked field by field (JSON) and line by line (CSV).
 */
class BansCommandTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static GatewayFixture gw;
  static Map<String, String> env;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    gw = GatewayFixture.start(Map.of("bans.never", ""));
    env = Map.of("GATEHOUSE_HOME", gw.dataDir.toString());
    key = gw.newKey();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  static String tags(String k, boolean close) {
    return "GET /api/tags HTTP/1.1\r\nHost: gatehouse.test\r\nAuthorization: Bearer "
        + k
        + "\r\n"
        + (close ? "Connection: close\r\n" : "")
        + "\r\n";
  }

  /**
   * Reads one response with a Content-Length; returns its status, or -1 when the connection closed.
   */
  static int readOne(InputStream in) throws Exception {
    StringBuilder head = new StringBuilder();
    int c;
    while (!head.toString().endsWith("\r\n\r\n")) {
      c = in.read();
      if (c < 0) {
        return -1;
      }
      head.append((char) c);
    }
    String h = head.toString();
    int cl = h.toLowerCase().indexOf("content-length: ");
    int len = Integer.parseInt(h.substring(cl + 16, h.indexOf("\r\n", cl)).trim());
    in.readNBytes(len);
    return Integer.parseInt(h.substring(9, 12));
  }

  private static JsonNode json(CliRun r) throws Exception {
    assertThat(r.code()).as(r.err()).isZero();
    return JSON.readTree(r.out());
  }

  @Test
  void aBanByHandHoldsFromTheNextRequestOnAnOpenConnectionAndRemovalLiftsIt() throws Exception {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress("127.0.0.4", 0));
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()));
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(tags(key, false).getBytes(StandardCharsets.US_ASCII));
      assertThat(readOne(in)).isEqualTo(200);

      CliRun add =
          CliRun.run(env, "bans", "add", "127.0.0.4", "--for", "1h", "--reason", "testing");
      assertThat(add.code()).as(add.err()).isZero();
      assertThat(add.out())
          .matches(
              "(?s)Banned 127\\.0\\.0\\.4 until \\S+Z; it is refused from its next request on\\.\\s*");

      // The same keep-alive connection: its next request is refused by closing it.
      out.write(tags(key, false).getBytes(StandardCharsets.US_ASCII));
      assertThat(readOne(in)).isEqualTo(-1);
    }
    assertThat(gw.upstream.requests()).hasSize(1);
    assertThat(gw.raw(tags(key, true), "127.0.0.5").status()).isEqualTo(200);

    CliRun remove = CliRun.run(env, "bans", "remove", "127.0.0.4");
    assertThat(remove.code()).as(remove.err()).isZero();
    assertThat(remove.out().strip())
        .isEqualTo("Removed the ban on 127.0.0.4; it is served again from its next request on.");
    assertThat(gw.raw(tags(key, true), "127.0.0.4").status()).isEqualTo(200);
  }

  @Test
  void listShowsBansInForceAsTextAndJson() throws Exception {
    assertThat(
            CliRun.run(env, "bans", "add", "203.0.113.77", "--reason", "seen in a report").code())
        .isZero();
    assertThat(CliRun.run(env, "bans", "add", "2001:DB8:0:0::BAD", "--for", "2h", "--json").code())
        .isZero();
    JsonNode list = json(CliRun.run(env, "bans", "list", "--json"));
    JsonNode forever = null;
    JsonNode v6 = null;
    for (JsonNode n : list) {
      if (n.get("ip").asText().equals("203.0.113.77")) {
        forever = n;
      }
      if (n.get("ip").asText().equals("2001:db8::bad")) {
        v6 = n; // stored in canonical form, whatever the spelling given
      }
    }
    assertThat(forever).isNotNull();
    assertThat(forever.get("status").asText()).isEqualTo("banned");
    assertThat(forever.get("banned_until").isNull()).isTrue();
    assertThat(forever.get("source").asText()).isEqualTo("manual");
    assertThat(forever.get("reasons").toString()).isEqualTo("[\"manual: seen in a report\"]");
    assertThat(forever.get("times").asInt()).isEqualTo(1);
    assertThat(v6).isNotNull();
    assertThat(Instant.parse(v6.get("banned_until").asText()))
        .isAfter(Instant.now().plusSeconds(7000));
    CliRun text = CliRun.run(env, "bans", "list");
    assertThat(text.out().lines().findFirst().orElseThrow())
        .matches("IP +STATUS +UNTIL +TIMES +REQUESTS +REASON");
    assertThat(text.out())
        .containsPattern(
            "(?m)^203\\.0\\.113\\.77 +banned +removed by hand +1 +0 +manual: seen in a report$");
    assertThat(CliRun.run(env, "bans", "remove", "203.0.113.77").code()).isZero();
    assertThat(CliRun.run(env, "bans", "remove", "2001:db8::bad").code()).isZero();
    assertThat(json(CliRun.run(env, "bans", "list", "--json")).toString())
        .doesNotContain("203.0.113.77");
  }

  @Test
  void mistakesAreUsageErrors() {
    // why: exit status 2 and a path: value (expected: ...) message, as everywhere in the CLI
    String[][] cases = {
      {"bans", "add", "10.0.0.0/8"},
      {"bans", "add", "not-an-address"},
      {"bans", "add", "203.0.113.1", "--for", "0s"},
      {"bans", "add", "203.0.113.1", "--reason", "line\nbreak"},
      {"bans", "remove", "203.0.113.250"},
      {"bans", "export", "--format", "xml"},
    };
    for (String[] args : cases) {
      CliRun r = CliRun.run(env, args);
      assertThat(r.code()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(r.err())
          .as(String.join(" ", args))
          .startsWith("gatehouse: ")
          .contains("(expected: ");
    }
  }

  @Test
  void anAddressInBansNeverCannotBeBannedByHand() {
    Map<String, String> exempt =
        Map.of("GATEHOUSE_HOME", gw.dataDir.toString(), "GATEHOUSE_BANS_NEVER", "127.0.0.0/8");
    CliRun r = CliRun.run(exempt, "bans", "add", "127.0.0.1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("127.0.0.1 (expected: an address outside bans.never");
  }

  @Test
  void exportHasFirstAndLastSeenReasonsCountsAndSamplePaths() throws Exception {
    GatewayFixture own =
        GatewayFixture.start(
            Map.of(
                "bans.never",
                "",
                "bans.auth_failures",
                "3",
                "bans.refusal",
                "403",
                "bans.duration",
                "1h"));
    Path dir = own.dataDir;
    try {
      String wrong = "gk_aaaaaaaaaaaa_" + "A".repeat(40);
      for (int i = 0; i < 3; i++) {
        assertThat(own.raw(tags(wrong, true), "127.0.0.8").status()).isEqualTo(401);
      }
      String k = own.newKey();
      assertThat(own.raw(tags(k, true).replace("/api/tags", "/v1/models"), "127.0.0.8").status())
          .isEqualTo(403);
      assertThat(own.raw(tags(k, true).replace("/api/tags", "/api/ps"), "127.0.0.8").status())
          .isEqualTo(403);
    } finally {
      own.close(); // flushes the request counts
    }
    Map<String, String> ownEnv = Map.of("GATEHOUSE_HOME", dir.toString());
    assertThat(
            CliRun.run(ownEnv, "bans", "add", "198.51.100.23", "--reason", "=HYPERLINK(\"x\")")
                .code())
        .isZero();

    JsonNode all = json(CliRun.run(ownEnv, "bans", "export", "--format", "json"));
    assertThat(all).hasSize(2);
    JsonNode auto = all.get(0).get("ip").asText().equals("127.0.0.8") ? all.get(0) : all.get(1);
    assertThat(auto.get("status").asText()).isEqualTo("banned");
    assertThat(auto.get("source").asText()).isEqualTo("auto");
    assertThat(auto.get("reasons").toString()).isEqualTo("[\"auth failures: 3 within 5m\"]");
    assertThat(auto.get("request_count").asLong())
        .isEqualTo(5); // 3 failures, then 2 refused while banned
    assertThat(auto.get("sample_paths").toString())
        .isEqualTo("[\"/api/tags\",\"/v1/models\",\"/api/ps\"]");
    Instant first = Instant.parse(auto.get("first_seen").asText());
    Instant last = Instant.parse(auto.get("last_seen").asText());
    assertThat(first).isBefore(last).isAfter(Instant.now().minusSeconds(120));
    assertThat(auto.fieldNames())
        .toIterable()
        .containsExactly(
            "ip",
            "status",
            "first_seen",
            "last_seen",
            "request_count",
            "reasons",
            "sample_paths",
            "banned_at",
            "banned_until",
            "times",
            "source");

    CliRun csv = CliRun.run(ownEnv, "bans", "export", "--format", "csv");
    assertThat(csv.code()).as(csv.err()).isZero();
    String[] lines = csv.out().split("\r\n");
    assertThat(lines).hasSize(3);
    assertThat(lines[0])
        .isEqualTo(
            "ip,status,first_seen,last_seen,request_count,reasons,sample_paths,banned_at,banned_until,times,source");
    String autoLine = lines[1].startsWith("127.0.0.8,") ? lines[1] : lines[2];
    String manualLine = lines[1].startsWith("127.0.0.8,") ? lines[2] : lines[1];
    assertThat(autoLine)
        .matches(
            "127\\.0\\.0\\.8,banned,\\S+Z,\\S+Z,5,auth failures: 3 within 5m,/api/tags;/v1/models;/api/ps,\\S+Z,\\S+Z,1,auto");
    // why: an attacker-chosen or pasted value must not run as a spreadsheet formula
    assertThat(manualLine)
        .contains(",\"manual: =HYPERLINK(\"\"x\"\")\",")
        .startsWith("198.51.100.23,banned,");
    assertThat(BanExport.cell("=1+1")).isEqualTo("'=1+1");
    assertThat(BanExport.cell("@SUM(A1)")).isEqualTo("'@SUM(A1)");
    assertThat(BanExport.cell("-2,3")).isEqualTo("\"'-2,3\"");

    CliRun active = CliRun.run(ownEnv, "bans", "export", "--format", "json", "--active");
    assertThat(json(active)).hasSize(2);
  }
}
