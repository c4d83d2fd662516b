package dev.gatehouse.abuse;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.abuse.ProbeDetector.Observation;
import dev.gatehouse.abuse.ProbeDetector.Signal;
import dev.gatehouse.abuse.ProbeDetector.Verdict;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.exchange.Problem;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Scoring, signal by signal, without a server: what each signal adds, when a verdict comes, that it
 * comes once per window, and that ordinary use of a valid key scores nothing. Threshold 10 and a
 * 15-minute window, the defaults.
 */
class ProbeDetectorTest {

  static final IpAddress IP = IpAddress.parse("203.0.113.7");
  static final ObjectMapper JSON = new ObjectMapper();

  static ProbeDetector detector() {
    // The ban list is only used when acting on a verdict, which observe(Observation, long) does
    // not.
    return new ProbeDetector(
        new GatehouseConfig.Probes(
            GatehouseConfig.ProbeAction.BAN, 10, Duration.ofMinutes(15), Duration.ofSeconds(5)),
        null);
  }

  static Observation unauth(String path) {
    return new Observation(
        IP, path, 401, Problem.KEY_INVALID, false, null, false, false, false, false);
  }

  static Observation ok(String path, String model) {
    return new Observation(IP, path, 200, null, true, model, false, false, false, false);
  }

  @Test
  void aCrossFrameworkSweepWithoutAKeyIsJudgedOnItsFourthRequest() {
    ProbeDetector d = detector();
    long t = 1_000_000;
    assertThat(d.observe(unauth("/"), t)).isNull();
    assertThat(d.observe(unauth("/api/tags"), t + 1)).isNull();
    assertThat(d.observe(unauth("/v1/models"), t + 2)).isNull();
    Verdict v = d.observe(unauth("/version"), t + 3);
    assertThat(v).isNotNull();
    assertThat(v.score()).isEqualTo(10);
    assertThat(v.summary()).isEqualTo("sweep:2,unauth_inventory:8");
    assertThat(v.hard()).isNull();
    assertThat(v.paths()).containsExactly("/", "/api/tags", "/v1/models", "/version");
    // One verdict per window: the sweep goes on, nothing new is reported.
    assertThat(d.observe(unauth("/props"), t + 4)).isNull();
    assertThat(d.observe(unauth("/info"), t + 5)).isNull();
  }

  static Observation malformed(String path, int status, Problem p) {
    return new Observation(
        IP,
        path,
        status,
        p,
        false,
        null,
        false,
        false,
        false,
        false,
        false,
        false,
        dev.gatehouse.exchange.FramingRefusal.malformed(p));
  }

  @Test
  void bytesThatAreNotHttpAreJudgedOnTheFifth() {
    // why: another protocol's greeting or a smuggling-shaped head is never a working client's; a
    // client pointed at the wrong port may send one or two, a scanner's service probes many
    ProbeDetector d = detector();
    long t = 1_000_000;
    assertThat(d.observe(malformed("(malformed)", 400, Problem.FRAMING_INVALID), t)).isNull();
    assertThat(d.observe(malformed("/", 400, Problem.HOST_INVALID), t + 1)).isNull();
    assertThat(d.observe(malformed("(malformed)", 505, Problem.VERSION_UNSUPPORTED), t + 2))
        .isNull();
    assertThat(d.observe(malformed("(malformed)", 400, Problem.FRAMING_INVALID), t + 3)).isNull();
    Verdict v = d.observe(malformed("/api/tags", 400, Problem.FRAMING_INVALID), t + 4);
    assertThat(v).isNotNull();
    assertThat(v.summary()).isEqualTo("malformed:10");
    assertThat(v.paths()).containsExactly("(malformed)", "/", "/api/tags");
  }

  @Test
  void limitRefusalsOnTheBytesAreNotMalformed() {
    // why: a body or head past the limits is a refusal a working client can reach
    ProbeDetector d = detector();
    long t = 1_000_000;
    for (int i = 0; i < 20; i++) {
      assertThat(d.observe(malformed("/api/chat", 413, Problem.BODY_TOO_LARGE), t + i)).isNull();
      assertThat(d.observe(malformed("/api/chat", 431, Problem.HEADERS_TOO_MANY), t + i)).isNull();
    }
    // the 41st refusal in the minute is the rate signal's, not a malformed one
    Verdict none = d.observe(malformed("/x", 414, Problem.TARGET_TOO_LONG), t + 50);
    assertThat(none).isNull();
  }

  @Test
  void samplePathsAreInTheOrderTheRequestsStartedNotFinished() {
    // why: a sweep's requests arrive on separate connections, and one that started first can
    // finish after the next; the ban record lists paths as the scanner sent them
    ProbeDetector d = detector();
    long t = 1_000_000;
    assertThat(d.observe(unauth("/api/tags"), t, 20)).isNull(); // started second, finished first
    assertThat(d.observe(unauth("/"), t + 1, 10)).isNull();
    assertThat(d.observe(unauth("/v1/models"), t + 2, 30)).isNull();
    Verdict v = d.observe(unauth("/version"), t + 3, 40);
    assertThat(v).isNotNull();
    assertThat(v.paths()).containsExactly("/", "/api/tags", "/v1/models", "/version");
  }

  @Test
  void ordinaryUseOfAValidKeyScoresNothing() {
    ProbeDetector d = detector();
    long t = 0;
    for (int round = 0; round < 200; round++) {
      for (String path :
          new String[] {
            "/api/tags",
            "/api/version",
            "/api/ps",
            "/v1/models",
            "/api/chat",
            "/api/generate",
            "/v1/chat/completions",
            "/v1/embeddings",
            "/api/embed",
            "/v1/models/llama3.2:3b"
          }) {
        assertThat(d.observe(ok(path, "llama3.2:3b"), t++)).isNull();
      }
    }
  }

  @Test
  void aClientWithAMissingKeyRetryingOnePathIsNotAScanner() {
    // why: a misconfigured app retrying one call is the auth-failure rule's business, not a probe
    ProbeDetector d = detector();
    for (int i = 0; i < 15; i++) {
      assertThat(d.observe(unauth("/v1/chat/completions"), i * 1000L)).isNull();
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/.env",
        "/.ENV",
        "/app/.env.production",
        "/.git/config",
        "/.aws/credentials",
        "/.ssh/id_rsa",
        "/.claude/settings.json",
        "/openai/credentials.json",
        "/.cache/huggingface/token",
        "/x/.docker/config.json"
      })
  void aCredentialFileIsAVerdictOnItsFirstRequest(String path) {
    // why: unambiguous: no model server serves these, and no client asks for them
    for (Observation o :
        new Observation[] {
          unauth(path),
          new Observation(
              IP, path, 404, Problem.ENDPOINT_UNKNOWN, true, null, false, false, false, false)
        }) {
      Verdict v = detector().observe(o, 0);
      assertThat(v).as(path).isNotNull();
      assertThat(v.hard()).isEqualTo(Signal.CREDENTIAL_PATH);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/api/environment",
        "/envoy",
        "/v1/models/env",
        "/api/tags",
        "/environments/.envelope"
      })
  void pathsThatMerelyMentionEnvAreNotCredentialFiles(String path) {
    assertThat(ProbeSignatures.credentialPath(path)).isFalse();
  }

  @Test
  void aRegistryUrlInAManagementRequestIsAVerdict() {
    Observation o =
        new Observation(
            IP,
            "/api/pull",
            403,
            Problem.REGISTRY_DENIED,
            true,
            "http://evil.example/rogue/x",
            false,
            false,
            false,
            true);
    Verdict v = detector().observe(o, 0);
    assertThat(v).isNotNull();
    assertThat(v.hard()).isEqualTo(Signal.REGISTRY_URL);
  }

  @Test
  void everyHardSignalIsReportedEvenAfterAVerdict() {
    ProbeDetector d = detector();
    assertThat(d.observe(unauth("/.env"), 0)).isNotNull();
    assertThat(d.observe(unauth("/.git/config"), 1)).isNotNull();
  }

  @Test
  void helloProbesNamingVendorModelsAddUpToAVerdict() {
    // why: "hello", one token, gpt-3.5-turbo, on a server that does not serve it: is inference
    // open?
    ProbeDetector d = detector();
    Observation probe =
        new Observation(
            IP,
            "/v1/chat/completions",
            404,
            null,
            true,
            "gpt-3.5-turbo",
            true,
            false,
            false,
            false);
    assertThat(d.observe(probe, 0)).isNull();
    Verdict v = d.observe(probe, 1);
    assertThat(v).isNotNull();
    assertThat(v.summary()).isEqualTo("hello:6,vendor_model:6");
  }

  @Test
  void eachSignalAloneStaysBelowTheThreshold() {
    // why: caps keep any single weak signal, however often repeated, from making a verdict alone
    ProbeDetector hello = detector();
    ProbeDetector vendor = detector();
    ProbeDetector rate = detector();
    for (int i = 0; i < 50; i++) {
      assertThat(
              hello.observe(
                  new Observation(
                      IP, "/api/generate", 200, null, true, "llama3", true, false, false, false),
                  i))
          .isNull();
      assertThat(
              vendor.observe(
                  new Observation(
                      IP,
                      "/v1/chat/completions",
                      404,
                      null,
                      true,
                      "gpt-4o",
                      false,
                      false,
                      false,
                      false),
                  i))
          .isNull();
      assertThat(
              rate.observe(
                  new Observation(
                      IP,
                      "/api/chat",
                      403,
                      Problem.MODEL_DENIED,
                      true,
                      "llama3",
                      false,
                      false,
                      false,
                      false),
                  i))
          .isNull();
    }
  }

  @Test
  void anthropicStyleProbesWithAWeakCredential() {
    // why: GET /anthropic/v1/models with X-Api-Key: password, then a model list
    ProbeDetector d = detector();
    Observation first =
        new Observation(
            IP,
            "/anthropic/v1/models",
            401,
            Problem.KEY_INVALID,
            false,
            null,
            false,
            true,
            true,
            false);
    assertThat(d.observe(first, 0)).isNull(); // 5 + 2 + 2
    Verdict v = d.observe(unauth("/v1/models"), 1);
    assertThat(v).isNotNull();
    assertThat(v.summary()).isEqualTo("unauth_inventory:4,weak_credential:5,anthropic_unauth:2");
  }

  @Test
  void theScoreStartsOverAfterTheWindow() {
    ProbeDetector d = detector();
    long window = Duration.ofMinutes(15).toMillis();
    d.observe(unauth("/"), 0);
    d.observe(unauth("/api/tags"), 1);
    d.observe(unauth("/v1/models"), 2);
    assertThat(d.observe(unauth("/version"), window + 10)).isNull(); // a fresh window: 2 points
    assertThat(d.observe(unauth("/props"), window + 11)).isNull();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"model\":\"gpt-3.5-turbo\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"max_tokens\":1}|true",
        "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi!\"}],\"max_completion_tokens\":1}|true",
        "{\"model\":\"llama3\",\"prompt\":\"hello\",\"options\":{\"num_predict\":1}}|true",
        "{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"How many states are there in the United States?\"}],\"max_tokens\":1}|true",
        // why: a person saying hello to a chat model is not a probe: only a one-token answer is
        "{\"model\":\"llama3\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}|false",
        "{\"model\":\"llama3\",\"prompt\":\"hello\",\"stream\":false}|false",
        "{\"model\":\"llama3\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}],\"max_tokens\":1}|false",
        "{\"model\":\"llama3\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}|false",
      })
  void helloProbeShapes(String body, boolean probe) throws Exception {
    assertThat(ProbeDetector.helloProbe(JSON.readTree(body))).isEqualTo(probe);
  }
}
