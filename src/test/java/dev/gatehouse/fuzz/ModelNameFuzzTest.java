package dev.gatehouse.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.ModelName;
import java.util.List;

/**
 * Fuzzes the one model-name parser. Invariants: it never throws; a name it accepts is pure ASCII
 * within Ollama's part lengths, its canonical and display forms parse back to the same name, and an
 * allowlist answers the same for the name as sent, its canonical form and its display form. Without
 * a fuzzing run (plain {@code mvn test}) the seeds under {@code
 * src/test/resources/dev/gatehouse/fuzz/ModelNameFuzzTestInputs/} run as regression cases.
 */
class ModelNameFuzzTest {

  private static final List<ModelGlobs> GLOBS =
      List.of(
          new ModelGlobs(List.of("tiny")),
          new ModelGlobs(List.of("tiny*")),
          new ModelGlobs(List.of("llama3:*")),
          new ModelGlobs(List.of("library/tiny", "x?y")),
          new ModelGlobs(List.of("hf.co/*")),
          new ModelGlobs(List.of("*-cloud")),
          new ModelGlobs(List.of("user/*:7b")));

  @FuzzTest(maxDuration = "15s")
  void parse(byte[] input) {
    String raw = new String(input, java.nio.charset.StandardCharsets.UTF_8);
    check(raw);
    check(new String(input, java.nio.charset.StandardCharsets.ISO_8859_1));
  }

  static void check(String raw) {
    ModelName n = ModelName.parse(raw);
    if (n == null) {
      for (ModelGlobs g : GLOBS) {
        assertThat(g.allows(raw)).as("a non-name is never allowed: %s", raw).isFalse();
      }
      return;
    }
    assertThat(raw.chars().allMatch(c -> c > 0x20 && c < 0x7f))
        .as("accepted names are printable ASCII: %s", raw)
        .isTrue();
    assertThat(raw.length()).isLessThanOrEqualTo(ModelName.MAX_LENGTH);
    assertThat(n.namespace().length()).isBetween(1, ModelName.MAX_PART);
    assertThat(n.model().length()).isBetween(1, ModelName.MAX_PART);
    assertThat(n.tag().length()).isBetween(1, ModelName.MAX_PART);
    assertThat(n.registry().length()).isBetween(1, ModelName.MAX_HOST);
    assertThat(ModelName.lower(n.canonical())).isEqualTo(n.canonical());
    ModelName again = ModelName.parse(n.canonical());
    assertThat(again).as("canonical form of %s parses", raw).isNotNull();
    assertThat(again.canonical()).isEqualTo(n.canonical());
    ModelName shown = ModelName.parse(n.recorded());
    assertThat(shown).as("recorded form of %s parses", raw).isNotNull();
    assertThat(shown.canonical()).isEqualTo(n.canonical());
    assertThat(shown.isCloud()).as("cloud reading survives: %s", raw).isEqualTo(n.isCloud());
    for (ModelGlobs g : GLOBS) {
      boolean asSent = g.allows(raw);
      assertThat(g.allows(n.canonical()) || n.cloudSuffix()).isEqualTo(asSent || n.cloudSuffix());
      assertThat(g.allows(n)).isEqualTo(asSent);
      assertThat(g.allows(n.display())).as("%s for %s", g, raw).isEqualTo(asSent);
    }
  }
}
