package dev.gatehouse.abuse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.abuse.ProbeDetector.Observation;
import dev.gatehouse.abuse.ProbeDetector.Signal;
import dev.gatehouse.abuse.ProbeDetector.Verdict;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.exchange.Problem;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The lenient scan of a peeked body prefix, and the signals it feeds: what a cut prefix still
 * shows, what it must not be read as, and that hostile prefixes neither throw nor match.
 */
class PeekedBodyTest {

  static PeekedBody scan(String s) {
    return PeekedBody.scan(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aWholeHelloProbeShowsEveryPart() {
    PeekedBody b =
        scan(
            "{\"model\":\"gpt-3.5-turbo\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"max_tokens\":1}");
    assertThat(b).isEqualTo(new PeekedBody("gpt-3.5-turbo", true, true, false));
  }

  @ParameterizedTest
  @ValueSource(strings = {"model", "name", "prompt", "messages", "max_tokens", "options"})
  void aNameThatIsNotUtf8IsNeverReadAsANameSeenBefore(String name) {
    // Jackson looks a member name up by its bytes in the names its factory has read before, in
    // 4-byte groups whose last one it pads with 0xFF, and checks a name's UTF-8 only the first
    // time; so once a body had "model", "mode\xFFl" in a later one was read as "model".
    scan("{\"" + name + "\":1}"); // the real name, read once: the factory's name table has it
    int cut = name.length() - 1;
    byte[] forged =
        ("{\"" + name.substring(0, cut) + "\u00ff" + name.substring(cut) + "\":\"x\"}")
            .getBytes(StandardCharsets.ISO_8859_1); // the one byte 0xFF, which UTF-8 never has
    // why: the scan stops at the invalid byte; nothing after it counts as any field
    assertThat(PeekedBody.scan(forged)).isEqualTo(PeekedBody.NONE);
    // and the model such a name carries is never taken for the model the probe named
    byte[] model = "{\"mode\u00ffl\":\"__scanner__\"}".getBytes(StandardCharsets.ISO_8859_1);
    scan("{\"model\":\"llama3\"}");
    assertThat(PeekedBody.scan(model).model()).isNull();
  }

  @Test
  void aCutPrefixKeepsWhatCameBeforeTheCut() {
    // why: a prefix of a larger body: the model before the cut still counts
    assertThat(
            scan("{\"model\":\"__nmap_probe_404__\",\"messages\":[{\"role\":\"system\",\"content\":\"aaaa")
                .model())
        .isEqualTo("__nmap_probe_404__");
    // why: a messages array cut short may hide more messages: no "only message" claim
    assertThat(
            scan("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"user\",\"co")
                .stockPrompt())
        .isFalse();
    assertThat(
            scan("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}")
                .stockPrompt())
        .isFalse();
  }

  @Test
  void aMalformedByteOrACutCharacterKeepsWhatCameBeforeIt() {
    // why: the scan reads names decoded (Jackson's UTF-8 reader ahead of its character parser);
    // a bad byte later in the prefix, wherever the reader's blocks end, must not hide the model
    // and prompt before it, or a scanner would pad its probe with one to go unscored
    for (int pad : new int[] {0, 1, 100, 1000, 3990, 3999, 4000, 4001, 4010, 7000}) {
      for (int[] bad :
          new int[][] {{0xFF}, {0xC3}, {0xC3, '('}, {0xE2, 0x82}, {0xED, 0xA0, 0x80}}) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.writeBytes(
            "{\"model\":\"__nmap_probe_404__\",\"prompt\":\"hello\",\"x\":\""
                .getBytes(StandardCharsets.UTF_8));
        b.writeBytes("a".repeat(pad).getBytes(StandardCharsets.UTF_8));
        for (int x : bad) {
          b.write(x);
        }
        byte[] cut = b.toByteArray(); // the prefix ends on the bad bytes
        b.writeBytes("\",\"max_tokens\":1}".getBytes(StandardCharsets.UTF_8));
        for (byte[] prefix : new byte[][] {cut, b.toByteArray()}) {
          PeekedBody p = PeekedBody.scan(prefix);
          assertThat(p.model()).as("pad %d", pad).isEqualTo("__nmap_probe_404__");
          assertThat(p.stockPrompt()).as("pad %d", pad).isTrue();
        }
      }
    }
  }

  @Test
  void registryUrlsAreSeenInEveryFieldThatNamesAModel() {
    assertThat(scan("{\"name\":\"http://x.example/rogue/a\",\"insecure\":true}").urlAsModel())
        .isTrue();
    assertThat(scan("{\"model\":\"https://x.example/a\"}").urlAsModel()).isTrue();
    assertThat(scan("{\"source\":\"a\",\"destination\":\"http://x/y\"}").urlAsModel()).isTrue();
    assertThat(
            scan("{\"model\":\"m\",\"modelfile\":\"SYSTEM x\\nfrom  http://x/y.gguf\"}")
                .urlAsModel())
        .isTrue();
    assertThat(scan("{\"name\":\"hf.co/org/model\"}").urlAsModel())
        .as("a registry host is no URL")
        .isFalse();
    assertThat(scan("{\"model\":\"m\",\"system\":\"see http://docs.example\"}").urlAsModel())
        .as("not a model field")
        .isFalse();
    assertThat(scan("{\"options\":{\"model\":\"http://x/y\"}}").urlAsModel())
        .as("nested: not the model")
        .isFalse();
  }

  @Test
  void oneTokenLimitsInEverySpelling() {
    assertThat(scan("{\"max_completion_tokens\":1}").tinyOutput()).isTrue();
    assertThat(scan("{\"options\":{\"num_predict\":1}}").tinyOutput()).isTrue();
    assertThat(scan("{\"n_predict\":0}").tinyOutput()).isTrue();
    assertThat(scan("{\"max_tokens\":16}").tinyOutput()).isFalse();
    assertThat(scan("{\"max_tokens\":-1}").tinyOutput()).isFalse();
    assertThat(scan("{\"max_tokens\":18446744073709551617}").tinyOutput())
        .as("2^64+1 wraps to 1 as a long")
        .isFalse();
    assertThat(scan("{\"max_tokens\":\"1\"}").tinyOutput()).isFalse();
  }

  @Test
  void contentPartsAndPromptsAreRead() {
    assertThat(
            scan("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi!\"}]}]}")
                .stockPrompt())
        .isTrue();
    assertThat(
            scan("{\"messages\":[{\"content\":[{\"text\":\"hi\"},{\"text\":\"and more\"}]}]}")
                .stockPrompt())
        .isFalse();
    assertThat(
            scan("{\"prompt\":\"How many states are there in the United States?\"}").stockPrompt())
        .isTrue();
    assertThat(scan("{\"input\":\"ping\"}").stockPrompt()).isTrue();
    assertThat(scan("{\"prompt\":\"Write a haiku\"}").stockPrompt()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "null",
        "[]",
        "{",
        "{\"",
        "{\"model\"",
        "{\"model\":",
        "not json",
        "\u0000\u0001",
        "{\"model\":{\"model\":\"__nmap_probe_404__\"}}", // why: nested, not the request's model
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "{\"model\":\"\\ud800\"}",
        "{\"model\":123}",
        "{\"messages\":\"hi\"}"
      })
  void hostilePrefixesNeitherThrowNorMatch(String s) {
    PeekedBody b = scan(s);
    assertThat(ProbeSignatures.scannerModel(b.model())).isFalse();
    assertThat(b.urlAsModel()).isFalse();
    assertThat(b.stockPrompt()).isFalse();
  }

  static final IpAddress IP = IpAddress.parse("198.51.100.4");

  static Observation keyless(String path, PeekedBody b) {
    return new Observation(
        IP,
        path,
        401,
        Problem.KEY_INVALID,
        false,
        b.model(),
        b.stockPrompt(),
        false,
        false,
        b.urlAsModel() && ProbeSignatures.managementPath(path),
        b.tinyOutput());
  }

  @Test
  void theHardShapesActOnTheirFirstRequest() {
    ProbeDetector d = ProbeDetectorTest.detector();
    Verdict v =
        d.observe(
            keyless(
                "/v1/chat/completions",
                scan(
                    "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}")),
            1000);
    assertThat(v.hard()).isEqualTo(Signal.HELLO_PROBE);
    v =
        ProbeDetectorTest.detector()
            .observe(keyless("/api/chat", scan("{\"model\":\"__nmap_probe_404__\"}")), 1000);
    assertThat(v.hard()).isEqualTo(Signal.SCANNER_MODEL);
    v =
        ProbeDetectorTest.detector()
            .observe(keyless("/api/pull", scan("{\"name\":\"http://a/b\"}")), 1000);
    assertThat(v.hard()).isEqualTo(Signal.REGISTRY_URL);
  }

  @Test
  void theWeakShapesOnlyScore() {
    // why: a URL model on an inference route is not the pull check; the hello to a local model,
    // or to a vendor id without a one-token limit, or with a valid key, is not the probe itself
    assertThat(
            ProbeDetectorTest.detector()
                .observe(keyless("/api/chat", scan("{\"model\":\"http://a/b\"}")), 1000))
        .isNull();
    assertThat(
            ProbeDetectorTest.detector()
                .observe(
                    keyless(
                        "/api/chat",
                        scan(
                            "{\"model\":\"llama3\",\"messages\":[{\"content\":\"hi\"}],\"options\":{\"num_predict\":1}}")),
                    1000))
        .isNull();
    assertThat(
            ProbeDetectorTest.detector()
                .observe(
                    keyless(
                        "/v1/chat/completions",
                        scan("{\"model\":\"gpt-4o\",\"messages\":[{\"content\":\"hi\"}]}")),
                    1000))
        .isNull();
    assertThat(
            ProbeDetectorTest.detector()
                .observe(
                    keyless(
                        "/v1/chat/completions",
                        scan(
                            "{\"model\":\"gpt-oss:20b\",\"messages\":[{\"content\":\"hi\"}],\"max_tokens\":1}")),
                    1000))
        .as("gpt-oss is an open model, not a vendor id")
        .isNull();
    ProbeDetector keyed = ProbeDetectorTest.detector();
    Observation withKey =
        new Observation(
            IP, "/v1/chat/completions", 200, null, true, "gpt-4o", true, false, false, false, true);
    assertThat(keyed.observe(withKey, 1000)).isNull();
  }

  static Observation refused(String path, boolean credential) {
    return new Observation(
        IP,
        path,
        401,
        Problem.KEY_INVALID,
        false,
        null,
        false,
        false,
        false,
        false,
        false,
        credential,
        false);
  }

  @Test
  void aWrongKeyOnAClientsUsualPathsIsNoSweepButNoKeyIs() {
    // why: the npm clients test's wrong-key calls: 16 refusals over /v1/chat/completions,
    // /v1/models, /api/chat, /api/tags with a mistyped or stale key. That is the auth-failure
    // ban's business (guessing), not a scanner's sweep.
    List<String> paths = List.of("/v1/chat/completions", "/v1/models", "/api/chat", "/api/tags");
    ProbeDetector wrongKey = ProbeDetectorTest.detector();
    ProbeDetector noKey = ProbeDetectorTest.detector();
    Verdict withKey = null;
    Verdict without = null;
    for (int round = 0; round < 4; round++) {
      for (String p : paths) {
        withKey = withKey != null ? withKey : wrongKey.observe(refused(p, true), 1000 + round);
        without = without != null ? without : noKey.observe(refused(p, false), 1000 + round);
      }
    }
    assertThat(withKey).isNull();
    assertThat(without).isNotNull();
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "Bearer gk_abcdefgh12345678|true",
        "sk-not-a-gatehouse-key|true",
        "Basic dXNlcjpzZWNyZXRwYXNz|true",
        "Bearer password|false", // why: the Anthropic-style probe's own value
        "password|false",
        "Bearer EMPTY|false", // why: vLLM's convention for "no key"
        "Bearer |false",
        "Bearer sk-|false",
        "short|false"
      })
  void whatCountsAsAKeySomeoneWasGiven(String header, boolean real) {
    assertThat(ProbeSignatures.realCredential(header)).isEqualTo(real);
  }
}
