package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.doctor.ClassProbes.Answer;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.testing.FakeLlmServer;
import dev.gatehouse.testing.FakeLlmServer.Kind;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Identification and endpoint-class verdicts against fakes of each product, with and without their
 * API key: what doctor and scan build every finding on.
 */
class FingerprintTest {

  static JdkHttpProbe http;

  @BeforeAll
  static void client() {
    http = new JdkHttpProbe(Duration.ofSeconds(5), "gatehouse-test");
  }

  @AfterAll
  static void close() {
    http.close();
  }

  @ParameterizedTest(name = "{0} {1} key={2}")
  @CsvSource(
      delimiter = '|',
      value = {
        // why: the classic: banner, /api/version, every class open including model management
        "OLLAMA    | 0.1.33  | false | OLLAMA      | 0.1.33 | inference embeddings models.read models.inspect models.manage account cloud | ",
        // why: Ollama behind an auth proxy shows nothing but 401s: unidentified, every class
        // protected
        "OLLAMA    | 0.6.8   | true  | UNKNOWN     |        | | inference embeddings models.read models.inspect models.manage account cloud",
        // why: llama.cpp ignores the model name; only the malformed body keeps the probe from
        // generating
        "LLAMA_CPP | b4500   | false | LLAMA_CPP   | b4500  | inference embeddings models.read models.inspect | ",
        // why: llama-server --api-key leaves /v1/models public; its Server header still names it
        "LLAMA_CPP | b4500   | true  | LLAMA_CPP   |        | models.read | inference embeddings models.inspect",
        // why: vLLM's /version and uvicorn header
        "VLLM      | 0.6.3   | false | VLLM        | 0.6.3  | inference embeddings models.read models.inspect | ",
        // why: vLLM's --api-key covers only /v1: /metrics and /version stay open
        "VLLM      | 0.6.3   | true  | VLLM        | 0.6.3  | models.inspect | inference embeddings models.read",
        // why: LM Studio answers 200 to unknown paths; that must not count as open
        "LM_STUDIO | 0.3.14  | false | LM_STUDIO   |        | inference embeddings models.read | ",
        "LM_STUDIO | 0.3.14  | true  | UNKNOWN     |        | | inference embeddings models.read",
        // why: LocalAI's gallery install route answers 405 to GET: management is reachable
        "LOCALAI   | v2.20.1 | false | LOCALAI     | v2.20.1 | inference embeddings models.read models.manage | ",
        "LOCALAI   | v2.20.1 | true  | UNKNOWN     |        | | inference embeddings models.read models.manage",
      })
  void identifiesEachProductAndJudgesEachClass(
      Kind kind,
      String version,
      boolean withKey,
      Product product,
      String expectedVersion,
      String open,
      String protectedClasses) {
    try (FakeLlmServer server =
        FakeLlmServer.start(kind, version, "127.0.0.1", withKey ? "sk-test" : null, false)) {
      Session s = new Session(http, URI.create(server.url()), 40, Duration.ZERO);
      Fingerprinter.Identity id = Fingerprinter.identify(s);
      assertThat(id.product()).as(id.evidence().toString()).isEqualTo(product);
      assertThat(id.version())
          .isEqualTo(expectedVersion == null || expectedVersion.isBlank() ? null : expectedVersion);
      Map<Operation, ClassProbes.Result> classes = ClassProbes.run(s, id.product());
      assertThat(ClassProbes.scopes(ClassProbes.having(classes, Answer.OPEN)).replace(",", ""))
          .as(classes.toString())
          .isEqualTo(open == null ? "none" : open);
      if (protectedClasses != null) {
        for (String scope : protectedClasses.split(" ")) {
          assertThat(classes.get(Operation.byScope(scope)).answer())
              .as(scope + " " + classes)
              .isEqualTo(Answer.PROTECTED);
        }
      }
      assertThat(s.sent()).isLessThanOrEqualTo(40);
      assertThat(server.stateChanges()).as("a probe changed state or ran a model").isEmpty();
    }
  }
}
