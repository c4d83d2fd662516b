package dev.gatehouse.pins;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.exchange.ModelName;
import dev.gatehouse.exchange.ModelName.Part;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The one model-name parser, at each boundary of Ollama's grammar. */
class ModelNameTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    // why: Ollama's defaults fill in the registry, namespace and tag
    "tiny, registry.ollama.ai/library/tiny:latest",
    "tiny:latest, registry.ollama.ai/library/tiny:latest",
    "library/tiny, registry.ollama.ai/library/tiny:latest",
    "registry.ollama.ai/library/tiny:latest, registry.ollama.ai/library/tiny:latest",
    // why: ASCII case is folded, as Ollama compares names
    "TINY:Latest, registry.ollama.ai/library/tiny:latest",
    "llama3.2:3b, registry.ollama.ai/library/llama3.2:3b",
    "user/model:q4_K_M, registry.ollama.ai/user/model:q4_k_m",
    "hf.co/bartowski/Llama-3.2-1B-GGUF:Q4_K_M, hf.co/bartowski/llama-3.2-1b-gguf:q4_k_m",
    "localhost:5000/ns/m, localhost:5000/ns/m:latest",
    // why: Ollama drops a scheme in front of a host (pull over http with insecure)
    "http://evil.example/ns/m, evil.example/ns/m:latest",
    "HTTPS://EVIL.EXAMPLE/NS/M, evil.example/ns/m:latest",
    // why: a leading underscore is allowed by isValidPart
    "_x/_y:_z, registry.ollama.ai/_x/_y:_z",
    // why: one-character parts are the minimum
    "a/b/c:d, a/b/c:d",
  })
  void namesParseToTheirCanonicalForm(String raw, String canonical) {
    ModelName n = ModelName.parse(raw);
    assertThat(n).as(raw).isNotNull();
    assertThat(n.canonical()).isEqualTo(canonical);
    assertThat(ModelName.parse(n.canonical())).as("canonical form round-trips").isNotNull();
    assertThat(ModelName.parse(n.canonical()).canonical()).isEqualTo(canonical);
  }

  static Stream<Arguments> notNames() {
    String a80 = "a".repeat(80);
    return Stream.of(
        // why: read as cloud by Ollama's cloud source but as a bad name by its parser: one form
        // only
        Arguments.of("tiny::latest", "empty part between colons"),
        Arguments.of("tiny:latest:latest", "two tags"),
        Arguments.of("tiny/../../x", "path traversal: four segments"),
        Arguments.of("../x", "dot-dot as namespace"),
        Arguments.of("tiny%00", "percent escape"),
        Arguments.of("tiny\u0000", "NUL"),
        Arguments.of("tiny x", "space"),
        Arguments.of("tiny\tx", "tab"),
        Arguments.of("tiny\r\n", "CR LF"),
        Arguments.of("tiny\u007f", "DEL"),
        Arguments.of("ti\u0001ny", "control character"),
        Arguments.of("ti\u200bny", "zero-width space"),
        Arguments.of("ti\u200cny", "zero-width non-joiner"),
        Arguments.of("ti\u200dny", "zero-width joiner"),
        Arguments.of("\ufefftiny", "byte order mark"),
        Arguments.of("tiny\u202e", "bidi override"),
        Arguments.of("ti\u2066ny", "bidi isolate"),
        Arguments.of("\uff54iny", "fullwidth t"),
        Arguments.of("t\u0130ny", "dotted capital I, folds to i in Unicode"),
        Arguments.of("t\u0131ny", "dotless i"),
        Arguments.of("tin\u0443", "Cyrillic u homoglyph"),
        Arguments.of("\ud800", "lone high surrogate"),
        Arguments.of("tiny\udc00", "lone low surrogate"),
        Arguments.of("", "empty"),
        Arguments.of(" tiny", "leading space: never trimmed"),
        Arguments.of("tiny ", "trailing space"),
        Arguments.of("tiny\n", "trailing newline"),
        Arguments.of("a".repeat(300), "300 characters"),
        Arguments.of("a".repeat(81), "model part past 80"),
        Arguments.of("tiny:" + "t".repeat(81), "tag past 80"),
        Arguments.of("n".repeat(81) + "/m", "namespace past 80"),
        Arguments.of("h".repeat(200) + "/" + a80 + "/m", "past 256 in all"),
        // why: 251 as sent, 258 once the default tag is added: its canonical form would not parse
        Arguments.of("h.".repeat(80) + "h/" + a80 + "/m" + "x".repeat(7), "past 256 canonical"),
        // why: 242 as sent, 261 with the default registry in front: the same bound, canonical
        Arguments.of(
            "n".repeat(80) + "/" + "m".repeat(80) + ":" + "t".repeat(80), "past 256 canonical"),
        Arguments.of("tiny:", "empty tag"),
        Arguments.of(":latest", "empty model"),
        Arguments.of("/tiny", "empty namespace"),
        Arguments.of("ns//tiny", "empty segment"),
        Arguments.of("-tiny", "leading dash"),
        Arguments.of(".tiny", "leading dot"),
        Arguments.of("tiny:-x", "tag starting with a dash"),
        Arguments.of("my.ns/tiny", "dot in namespace"),
        Arguments.of("ns:1/tiny", "colon in namespace"),
        Arguments.of("h/ns/ti:ny/x", "colon in a middle segment"),
        Arguments.of("host:/ns/m", "empty port"),
        Arguments.of("host:99999x/ns/m", "port not digits"),
        Arguments.of("host:1:2/ns/m", "two ports"),
        Arguments.of("http://ns/m", "scheme without a host"),
        Arguments.of("1http://h/ns/m", "scheme starting with a digit"),
        Arguments.of("tiny@sha256:abc", "short digest"),
        Arguments.of("tiny@md5:" + "a".repeat(64), "other digest"),
        Arguments.of("tiny@", "empty digest"),
        Arguments.of("tiny+Q4", "build part (refused, Ollama no longer reads it)"),
        Arguments.of("tiny\\x", "backslash"),
        Arguments.of("tiny?x", "question mark"),
        Arguments.of("tiny*", "glob character"),
        Arguments.of("tiny:latest:cloud:cloud", "two cloud suffixes"),
        Arguments.of("tiny::cloud", "empty tag before the cloud suffix"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("notNames")
  void malformedNamesAreNotNames(String raw, String why) {
    assertThat(ModelName.parse(raw)).as(why).isNull();
  }

  @Test
  void nullIsNotAName() {
    assertThat(ModelName.parse(null)).isNull();
  }

  @Test
  void partLengthsAreExactlyOllamas() {
    // why: each limit at, and one past, the boundary
    assertThat(ModelName.validPart(Part.MODEL, "m".repeat(80))).isTrue();
    assertThat(ModelName.validPart(Part.MODEL, "m".repeat(81))).isFalse();
    assertThat(ModelName.validPart(Part.NAMESPACE, "n".repeat(80))).isTrue();
    assertThat(ModelName.validPart(Part.NAMESPACE, "n".repeat(81))).isFalse();
    assertThat(ModelName.validPart(Part.TAG, "t".repeat(80))).isTrue();
    assertThat(ModelName.validPart(Part.TAG, "t".repeat(81))).isFalse();
    assertThat(ModelName.validPart(Part.HOST, "h".repeat(350))).isTrue();
    assertThat(ModelName.validPart(Part.HOST, "h".repeat(351))).isFalse();
    for (Part p : Part.values()) {
      assertThat(ModelName.validPart(p, "")).isFalse();
      assertThat(ModelName.validPart(p, "x")).isTrue();
    }
    assertThat(ModelName.parse("m".repeat(80))).isNotNull();
    assertThat(ModelName.parse("tiny:" + "t".repeat(80))).isNotNull();
    String longest =
        "h".repeat(256 - 1 - 80 - 1 - 80 - 1 - 80)
            + "/"
            + "n".repeat(80)
            + "/"
            + "m".repeat(80)
            + ":"
            + "t".repeat(80);
    assertThat(longest).hasSize(ModelName.MAX_LENGTH);
    assertThat(ModelName.parse(longest)).isNotNull();
    assertThat(ModelName.parse("h" + longest)).isNull();
  }

  @Test
  void characterClassesPerPart() {
    // why: Ollama's isValidPart: alnum or _ first; then _ - and . (not in a namespace); : only in a
    // host
    for (char c = 0; c < 128; c++) {
      boolean alnum = Character.isLetterOrDigit(c) || c == '_';
      String s = "a" + c;
      assertThat(ModelName.validPart(Part.MODEL, s))
          .as("model %s", (int) c)
          .isEqualTo(alnum || c == '-' || c == '.');
      assertThat(ModelName.validPart(Part.TAG, s))
          .as("tag %s", (int) c)
          .isEqualTo(alnum || c == '-' || c == '.');
      assertThat(ModelName.validPart(Part.NAMESPACE, s))
          .as("namespace %s", (int) c)
          .isEqualTo(alnum || c == '-');
      assertThat(ModelName.validPart(Part.MODEL, String.valueOf(c)))
          .as("first %s", (int) c)
          .isEqualTo(alnum);
    }
    for (int c = 128; c <= 0xffff; c += 7) {
      assertThat(ModelName.parse("a" + (char) c)).as("non-ASCII %s", c).isNull();
    }
  }

  @Test
  void cloudIsReadFromTheTagOrTheCloudSuffix() {
    // why: each of these runs on ollama.com under the server owner's account
    for (String cloud :
        new String[] {
          "x:cloud",
          "X:CLOUD",
          "gpt-oss:120b-cloud",
          "tiny:latest:cloud",
          "tiny:7b:CLOUD",
          "ns/m:q4:cloud"
        }) {
      assertThat(ModelName.parse(cloud)).as(cloud).isNotNull();
      assertThat(ModelName.parse(cloud).isCloud()).as(cloud).isTrue();
    }
    ModelName suffixed = ModelName.parse("tiny:latest:cloud");
    assertThat(suffixed.cloudSuffix()).isTrue();
    assertThat(suffixed.canonical()).isEqualTo("registry.ollama.ai/library/tiny:latest");
    assertThat(suffixed.recorded()).isEqualTo("tiny:latest:cloud");
    for (String local :
        new String[] {"cloud", "cloud:latest", "my-cloud-model:7b", "tiny:cloudy", "tiny-cloud"}) {
      assertThat(ModelName.parse(local).isCloud()).as(local).isFalse();
    }
  }

  @Test
  void digestsAndHostsAreKeptApart() {
    ModelName d = ModelName.parse("tiny@sha256:" + "A".repeat(64));
    assertThat(d.digest()).isEqualTo("sha256:" + "a".repeat(64));
    assertThat(d.canonical()).isEqualTo("registry.ollama.ai/library/tiny:latest");
    assertThat(ModelName.parse("tiny").explicitRegistry()).isNull();
    assertThat(ModelName.parse("registry.ollama.ai/library/tiny").explicitRegistry())
        .isEqualTo("registry.ollama.ai");
    assertThat(ModelName.parse("evil.example:5000/ns/m").explicitRegistry())
        .isEqualTo("evil.example:5000");
  }

  @Test
  void foldingIsAsciiOnly() {
    // why: Locale-sensitive or Unicode lower-casing could turn a non-ASCII letter into an ASCII one
    assertThat(ModelName.lower("T\u0130NY")).isEqualTo("t\u0130ny");
    assertThat(ModelName.lower("\u212A")).isEqualTo("\u212A");
  }
}
