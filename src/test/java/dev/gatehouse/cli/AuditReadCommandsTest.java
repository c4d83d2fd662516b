package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.store.SqliteStore;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.PrunedAuditLog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** audit tail, query and summary over a log written by a real gateway. */
class AuditReadCommandsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  static Path dir;
  static GatewayFixture gw;
  static Map<String, String> env;
  static String keyId;
  static final List<String> okIds = new ArrayList<>();
  static final List<String> refusedIds = new ArrayList<>();

  @BeforeAll
  static void traffic() throws Exception {
    dir = Files.createTempDirectory("gh-audit-read");
    env = Map.of("GATEHOUSE_HOME", dir.toString());
    gw = GatewayFixture.start(Map.of(), dir, null, null);
    String key = gw.newKey();
    keyId = key.split("_")[1];
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r =
          gw.post("/api/chat", key, "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[]}");
      okIds.add(r.headers().firstValue("X-Request-Id").orElseThrow());
      HttpResponse<String> no = gw.get("/api/tags", null);
      refusedIds.add(no.headers().firstValue("X-Request-Id").orElseThrow());
    }
    // The database copy trails the file by up to 250 ms (it is inserted in large transactions).
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (gw.store.lastAuditSeq() < 6 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  private static List<JsonNode> jsonLines(String out) throws Exception {
    List<JsonNode> l = new ArrayList<>();
    for (String s : out.strip().split("\n")) {
      if (!s.isBlank()) {
        l.add(JSON.readTree(s));
      }
    }
    return l;
  }

  @Test
  void queryFiltersByKeyStatusAndReasonNewestFirst() throws Exception {
    // why: "what did this key do" and "who is being refused" are the questions an operator asks
    CliRun byKey = CliRun.run(env, "audit", "query", "--key", keyId, "--json");
    assertThat(byKey.code()).as(byKey.err()).isZero();
    List<JsonNode> rows = jsonLines(byKey.out());
    assertThat(rows)
        .extracting(n -> n.path("request_id").asText())
        .containsExactlyElementsOf(okIds.reversed());

    CliRun refused =
        CliRun.run(
            env,
            "audit",
            "query",
            "--status",
            "401",
            "--reason",
            "auth.key_invalid",
            "--ip",
            "127.0.0.1",
            "--since",
            "1h",
            "--limit",
            "2",
            "--json");
    List<JsonNode> two =
        jsonLines(refused.out()); // other tests here add refusals too: check what, not which
    assertThat(two)
        .hasSize(2)
        .allSatisfy(
            n -> {
              assertThat(n.path("status").asInt()).isEqualTo(401);
              assertThat(n.path("reason").asText()).isEqualTo("auth.key_invalid");
            });
    assertThat(two.get(0).path("seq").asLong()).isGreaterThan(two.get(1).path("seq").asLong());

    CliRun none = CliRun.run(env, "audit", "query", "--until", "2000-01-01", "--json");
    assertThat(none.out()).isBlank();

    CliRun text = CliRun.run(env, "audit", "query", "--key", keyId);
    assertThat(text.out())
        .contains("REQUEST")
        .contains(okIds.get(0))
        .contains("/api/chat")
        .contains("llama3.2:3b");

    assertThat(CliRun.run(env, "audit", "query", "--since", "last tuesday").code()).isEqualTo(2);
  }

  @Test
  void summaryCountsRequestsRefusalsAndTokensPerKeyAndModel() throws Exception {
    CliRun r = CliRun.run(env, "audit", "summary", "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode rows = JSON.readTree(r.out());
    JsonNode mine = null;
    JsonNode anonymous = null;
    for (JsonNode n : rows) {
      if (n.path("key_id").asText().equals(keyId)) {
        mine = n;
      } else if (n.path("key_id").asText().equals("-")) {
        anonymous = n;
      }
    }
    assertThat(mine).isNotNull();
    assertThat(mine.path("model").asText()).isEqualTo("llama3.2:3b");
    assertThat(mine.path("requests").asLong()).isEqualTo(3);
    assertThat(mine.path("refused").asLong()).isZero();
    assertThat(mine.path("tokens_out").asLong()).isPositive();
    assertThat(anonymous).isNotNull();
    assertThat(anonymous.path("refused").asLong())
        .isEqualTo(anonymous.path("requests").asLong())
        .isGreaterThanOrEqualTo(3);
  }

  @Test
  void tailPrintsTheNewestRecordsAndFollowsNewOnes() throws Exception {
    CliRun last = CliRun.run(env, "audit", "tail", "-n", "2", "--json");
    assertThat(last.code()).as(last.err()).isZero();
    assertThat(jsonLines(last.out())).hasSize(2);

    StringWriter out = new StringWriter();
    Thread follower =
        new Thread(
            () ->
                Main.run(
                    new String[] {"audit", "tail", "-n", "0", "-f"},
                    env,
                    new PrintWriter(out, true),
                    new PrintWriter(new StringWriter()),
                    s -> {}));
    follower.start();
    try {
      Thread.sleep(300);
      HttpResponse<String> r = gw.get("/api/tags", null);
      String id = r.headers().firstValue("X-Request-Id").orElseThrow();
      long deadline = System.currentTimeMillis() + 10_000;
      // the follower prints a row in parts: wait for the whole line, not only its request id
      while (!wholeLineWith(out.toString(), id) && System.currentTimeMillis() < deadline) {
        Thread.sleep(50);
      }
      assertThat(out.toString()).contains(id).contains("auth.key_invalid");
      // issue 14: which check failed, from the record's detail
      assertThat(out.toString()).contains("detail=\"no credentials\"");
    } finally {
      follower.interrupt();
      follower.join(5000);
    }
    assertThat(follower.isAlive()).isFalse();
  }

  /** Whether {@code text} holds a line with {@code id} that has ended (its newline written). */
  private static boolean wholeLineWith(String text, String id) {
    int at = text.indexOf(id);
    return at >= 0 && text.indexOf('\n', at) >= 0;
  }

  private static List<Long> seqs(String out) throws Exception {
    return jsonLines(out).stream().map(n -> n.path("seq").asLong()).toList();
  }

  @Test
  void tailWithNoLogSaysSo() throws Exception {
    // why: a data directory without an audit log (and no sealed segments) is a usage error, told
    // at once, not a wait
    Path empty = Files.createTempDirectory("gh-audit-read-none");
    CliRun r = CliRun.run(Map.of("GATEHOUSE_HOME", empty.toString()), "audit", "tail");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("audit log not found: ").contains("audit.jsonl");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void tailAndQueryReadAcrossSegmentsAndSeeOnlyWhatRetentionKept() throws Exception {
    // why: after sealing, audit.jsonl can be empty; the newest records are then in the segments
    Path pruned = Files.createTempDirectory("gh-audit-read-pruned");
    PrunedAuditLog.write(pruned); // seq 1-10 pruned, 11-21 in one segment each, audit.jsonl empty
    Map<String, String> home = Map.of("GATEHOUSE_HOME", pruned.toString());
    CliRun five = CliRun.run(home, "audit", "tail", "-n", "5", "--json");
    assertThat(five.code()).as(five.err()).isZero();
    assertThat(seqs(five.out())).containsExactly(17L, 18L, 19L, 20L, 21L);
    assertThat(seqs(CliRun.run(home, "audit", "tail", "-n", "50", "--json").out()))
        .hasSize(11)
        .first()
        .isEqualTo(11L);
    CliRun all = CliRun.run(home, "audit", "query", "--json");
    assertThat(all.code()).as(all.err()).isZero();
    assertThat(seqs(all.out()))
        .containsExactly(21L, 20L, 19L, 18L, 17L, 16L, 15L, 14L, 13L, 12L, 11L);
  }

  @Test
  void tailFollowsAcrossSealing() throws Exception {
    // why: sealing renames the file tail -f is reading; no record may be lost or printed twice
    Path d = Files.createTempDirectory("gh-audit-follow");
    Map<String, String> home = Map.of("GATEHOUSE_HOME", d.toString());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    try (SqliteStore store = SqliteStore.open(d);
        AuditWriter w =
            AuditWriter.open(
                d,
                store,
                d.resolve("audit-hmac.key"),
                1000,
                Duration.ofHours(1),
                new GatehouseConfig.AuditRetention(1, Duration.ZERO, 0),
                Clock.systemUTC())) { // seals after every batch
      w.append(PrunedAuditLog.record("f0", Instant.now())).join();
      Thread follower =
          new Thread(
              () ->
                  Main.run(
                      new String[] {"audit", "tail", "-n", "100", "-f", "--json"},
                      home,
                      new PrintWriter(out, true),
                      new PrintWriter(err, true),
                      s -> {}));
      follower.start();
      try {
        for (int i = 1; i <= 8; i++) {
          w.append(PrunedAuditLog.record("f" + i, Instant.now())).join();
          Thread.sleep(100); // let some seals fall between the follower's reads, some within
        }
        long deadline = System.currentTimeMillis() + 10_000;
        while (!out.toString().contains("\"f8\"") && System.currentTimeMillis() < deadline) {
          Thread.sleep(50);
        }
      } finally {
        follower.interrupt();
        follower.join(5000);
      }
    }
    assertThat(seqs(out.toString()))
        .as("stderr: %s", err)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
  }
}
