package dev.gatehouse.identify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.exchange.ModelGlobs;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelGlobsTest {

  @Test
  void globsMatchCaseInsensitivelyAndHonourTheImplicitLatestTag() {
    // why: Ollama treats names case-insensitively and "llama3" as "llama3:latest"
    ModelGlobs g = new ModelGlobs(List.of("qwen*", "llama3", "phi3:mini"));
    assertThat(g.allows("qwen2.5:7b")).isTrue();
    assertThat(g.allows("QWEN2.5:7B")).isTrue();
    assertThat(g.allows("llama3")).isTrue();
    assertThat(g.allows("llama3:latest")).isTrue();
    assertThat(g.allows("llama3:70b")).isFalse();
    assertThat(g.allows("phi3:mini")).isTrue();
    assertThat(g.allows("phi3")).isFalse();
    assertThat(g.allows("mistral")).isFalse();
    assertThat(g.allows("xqwen")).isFalse();
  }

  @Test
  void regexMetacharactersInPatternsAreLiteral() {
    // why: a pattern like "a.b" must not match "axb"
    ModelGlobs g = new ModelGlobs(List.of("qwen2.5:7b", "x?y"));
    assertThat(g.allows("qwen2x5:7b")).isFalse();
    assertThat(g.allows("qwen2.5:7b")).isTrue();
    assertThat(g.allows("xay")).isTrue();
    assertThat(g.allows("xaay")).isFalse();
  }

  @Test
  void anEmptyListAllowsEverything() {
    assertThat(new ModelGlobs(List.of()).allowsAll()).isTrue();
    assertThat(new ModelGlobs(List.of()).allows("anything")).isTrue();
  }
}
