package dev.gatehouse.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.Node;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The npm {@code openai} and {@code ollama} packages against a real gateway: runs {@code node
 * --test tests/node/clients.mjs} once, then checks its report and what the upstream saw. Node.js is
 * required: without it this test fails, it does not skip.
 */
class NodeClientsTest {

  static final Path ROOT = Path.of("").toAbsolutePath();
  static final Path NODE_DIR = ROOT.resolve("tests/node");
  static final String SCRIPT = "tests/node/clients.mjs";

  /** The number of tests in clients.mjs. */
  static final int NODE_TESTS = 12;

  /** The model every refused call in clients.mjs names, and no allowed call does. */
  static final String REFUSED_MODEL = "phi3:latest";

  /**
   * Upstream requests per path that the allowed calls in clients.mjs make; a refused call that
   * leaked through would add to these. Keep in step with the script.
   */
  static final Map<String, Long> EXPECTED =
      Map.of("/v1/chat/completions", 2L, "/v1/models", 2L, "/api/tags", 2L, "/api/chat", 2L);

  static GatewayFixture gw;
  static Node.Run run;
  static List<FakeUpstream.Recorded> seen;
  static dev.gatehouse.testing.AccessLogCapture abuse;

  @BeforeAll
  static void runNodeClients() throws Exception {
    // Probe detection set to ban, loopback not exempt: the npm clients, their 401s and 403s
    // included, must never be flagged. Auth-failure bans are off: the script's 13 wrong-key
    // calls would pass bans.auth_failures by design, which is not what this checks.
    // The prompt guard is in block mode too: ordinary chats must pass it.
    gw =
        GatewayFixture.start(
            Map.of(
                "probes.action",
                "ban",
                "bans.never",
                "",
                "bans.auth_failures",
                "0",
                "guard.mode",
                "block"));
    abuse = new dev.gatehouse.testing.AccessLogCapture("gatehouse.abuse");
    String node = nodeVersion();
    Node.install();
    gw.upstream.reset();
    run =
        Node.exec(
            ROOT,
            Map.of(
                "GATEHOUSE_URL", gw.baseUrl(),
                "GATEHOUSE_KEY", gw.newKey(),
                "GATEHOUSE_LIMITED_KEY", gw.newKey(List.of("qwen*"), List.of())),
            180,
            "node",
            "--test",
            "--test-reporter=tap",
            SCRIPT);
    seen = gw.upstream.requests();
    System.out.println("node " + node + " ran " + SCRIPT + ":\n" + run.output());
  }

  @AfterAll
  static void stop() {
    if (abuse != null) {
      abuse.close();
    }
    if (gw != null) {
      gw.close();
    }
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  // The npm clients' own assertions (chat, streaming, models, 401s, 403s) all pass against the
  // gateway.
  @Test
  void everyNodeClientTestPasses() {
    assertThat(run.exitCode()).as("node --test exit code; output:\n%s", run.output()).isZero();
    assertThat(summary("tests")).as("tests run; output:\n%s", run.output()).isEqualTo(NODE_TESTS);
    assertThat(summary("pass")).as("tests passed; output:\n%s", run.output()).isEqualTo(NODE_TESTS);
    assertThat(summary("fail")).as("tests failed; output:\n%s", run.output()).isZero();
  }

  // Refused calls (bad key, missing key, denied model) must never reach the upstream, by model and
  // by count.
  @Test
  void refusedCallsNeverReachedUpstream() {
    assertThat(seen)
        .as("upstream requests naming the refused model")
        .noneMatch(r -> r.body().contains(REFUSED_MODEL));
    Map<String, Long> perPath =
        seen.stream()
            .collect(
                Collectors.groupingBy(
                    r -> r.uri().replaceFirst("\\?.*", ""), TreeMap::new, Collectors.counting()));
    assertThat(perPath)
        .as("upstream requests per path; node output:\n%s", run.output())
        .isEqualTo(new TreeMap<>(EXPECTED));
  }

  // With detection set to ban, nothing the npm clients do (bad keys and denied models included) is
  // a probe.
  @Test
  void theNpmClientsAreNeverFlagged() {
    assertThat(abuse.lines())
        .as("abuse log")
        .noneMatch(l -> l.contains("probe verdict") || l.startsWith("ban "));
    assertThat(gw.store.findBan("127.0.0.1")).isEmpty();
  }

  // The clients' keys authenticate to the gateway only; none may be relayed to the model server.
  @Test
  void keysAreNotForwardedUpstream() {
    assertThat(seen)
        .isNotEmpty()
        .allSatisfy(r -> assertThat(r.headers().get("Authorization")).isNull());
  }

  /** A count from node's TAP summary ({@code # pass 12}) or spec summary ({@code ℹ pass 12}). */
  static int summary(String what) {
    Matcher m = Pattern.compile("(?m)^[#\u2139] " + what + " (\\d+)$").matcher(run.output());
    if (!m.find()) {
      fail("no '" + what + "' count in node's output:\n" + run.output());
    }
    return Integer.parseInt(m.group(1));
  }

  static String nodeVersion() throws Exception {
    Node.Run v;
    try {
      v = Node.exec(ROOT, Map.of(), 30, "node", "--version");
    } catch (IOException e) {
      throw new AssertionError(
          "Node.js is required for NodeClientsTest but `node` could not be run: " + e.getMessage(),
          e);
    }
    assertThat(v.exitCode()).as("node --version: %s", v.output()).isZero();
    return v.output().strip();
  }
}
