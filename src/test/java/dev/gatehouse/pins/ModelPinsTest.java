package dev.gatehouse.pins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lock file the gateway will enforce: names normalise, files round-trip, bad files are refused.
 */
class ModelPinsTest {

  static final String A = "sha256:" + "a".repeat(64);
  static final String B = "sha256:" + "b".repeat(64);

  @Test
  void everySpellingOfAModelFindsItsPin() {
    ModelPins pins = ModelPins.of(Map.of("llama3", A, "hf.co/user/repo:q4", B));
    assertThat(pins.digestFor("llama3")).isEqualTo(A);
    assertThat(pins.digestFor("llama3:latest")).isEqualTo(A);
    assertThat(pins.digestFor("library/llama3:latest")).isEqualTo(A);
    assertThat(pins.digestFor("registry.ollama.ai/library/llama3:latest")).isEqualTo(A);
    assertThat(pins.digestFor("LLAMA3")).isEqualTo(A);
    assertThat(pins.digestFor("hf.co/user/repo:Q4")).isEqualTo(B);
    assertThat(pins.digestFor("llama3:8b")).isNull();
    assertThat(pins.digestFor("not a name")).isNull();
  }

  @Test
  void writtenFilesLoadBackAndAreSortedWithoutTimestamps(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("models.lock.json");
    ModelPins.of(Map.of("qwen2.5:7b", B, "llama3.2:3b", A)).write(file);
    assertThat(Files.readString(file))
        .isEqualTo(
            "{\n  \"gatehouse_model_pins\" : 1,\n  \"models\" : {\n"
                + "    \"llama3.2:3b\" : \""
                + A
                + "\",\n    \"qwen2.5:7b\" : \""
                + B
                + "\"\n  }\n}\n");
    ModelPins loaded = ModelPins.load(file);
    assertThat(loaded.entries())
        .containsExactly(Map.entry("llama3.2:3b", A), Map.entry("qwen2.5:7b", B));
    assertThat(loaded.digestFor("registry.ollama.ai/library/qwen2.5:7b")).isEqualTo(B);
  }

  @Test
  void malformedFilesAndConflictingPinsAreRefused(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("pins.json");
    Files.writeString(file, "{\"gatehouse_model_pins\":2,\"models\":{}}");
    assertThatThrownBy(() -> ModelPins.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("gatehouse_model_pins");
    Files.writeString(file, "{\"gatehouse_model_pins\":1,\"models\":{\"llama3\":\"md5:abc\"}}");
    assertThatThrownBy(() -> ModelPins.load(file))
        .hasMessageContaining("models.llama3: md5:abc (expected: sha256:");
    Files.writeString(
        file,
        "{\"gatehouse_model_pins\":1,\"models\":{\"llama3\":\""
            + A
            + "\",\"llama3:latest\":\""
            + B
            + "\"}}");
    assertThatThrownBy(() -> ModelPins.load(file)).hasMessageContaining("one digest per model");
    Files.writeString(file, "{");
    assertThatThrownBy(() -> ModelPins.load(file)).isInstanceOf(IllegalArgumentException.class);
  }
}
