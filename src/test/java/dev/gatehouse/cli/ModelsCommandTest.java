package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.pins.ModelPins;
import dev.gatehouse.testing.FakeModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gatehouse models verify}: exit status, --pin, --progress, and the default store. */
class ModelsCommandTest {

  @Test
  void aCleanStoreExitsZeroAndPinsAFlippedByteExitsOneAndPinsNothing(@TempDir Path home)
      throws Exception {
    // why: a lock file taken from a corrupted store would pin the corruption
    FakeModelStore store = new FakeModelStore(home.resolve("models"));
    List<String> llama =
        store.model(
            "registry.ollama.ai", "library", "llama3.2", "3b", "weights " + "w".repeat(5000));
    Path lock = home.resolve("models.lock.json");
    Map<String, String> env = Map.of("GATEHOUSE_HOME", home.resolve("data").toString());
    CliRun ok =
        CliRun.run(
            env, "models", "verify", "--dir", store.dir.toString(), "--pin", lock.toString());
    assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
    assertThat(ok.out())
        .contains("No findings.", "pinned 1 models to their manifest digests in " + lock);
    assertThat(ModelPins.load(lock).digestFor("llama3.2:3b")).startsWith("sha256:");
    assertThat(ok.err()).as("no progress bar unless asked or on a terminal").isEmpty();

    Files.delete(lock);
    store.flipByte(llama.get(1), 4000);
    CliRun bad =
        CliRun.run(
            env,
            "models",
            "verify",
            "--dir",
            store.dir.toString(),
            "--pin",
            lock.toString(),
            "--progress");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.out())
        .contains(
            "HIGH GH-MODEL-BLOB-CORRUPT: blob " + llama.get(1).replace(':', '-'),
            "lock file not written");
    assertThat(lock).doesNotExist();
    assertThat(bad.err()).contains("100% [####################]");
  }

  @Test
  void theStoreComesFromOllamaModelsAndAMissingOneIsAUsageError(@TempDir Path home)
      throws Exception {
    FakeModelStore store = new FakeModelStore(home.resolve("elsewhere"));
    store.model("registry.ollama.ai", "library", "phi3", "latest", "phi weights");
    store.blob("orphan");
    Map<String, String> env =
        Map.of(
            "OLLAMA_MODELS",
            store.dir.toString(),
            "GATEHOUSE_HOME",
            home.resolve("data").toString());
    CliRun r = CliRun.run(env, "models", "verify", "--json");
    assertThat(r.code())
        .as("an orphan is a finding, and the default --fail-on is low")
        .isEqualTo(1);
    assertThat(r.out())
        .contains("\"id\" : \"GH-MODEL-BLOB-ORPHAN\"", "\"command\" : \"models verify\"");
    assertThat(CliRun.run(env, "models", "verify", "--fail-on", "medium").code()).isZero();

    CliRun missing =
        CliRun.run(Map.of(), "models", "verify", "--dir", home.resolve("nothing").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("--dir: ").contains("(expected: an Ollama model store");
  }

  @Test
  void registriesAllowedByTheGatewayConfigAreAllowedHere(@TempDir Path home) throws Exception {
    // why: one list of trusted registries, whether a model is pulled through Gatehouse or found on
    // disk
    FakeModelStore store = new FakeModelStore(home.resolve("models"));
    store.model("hf.co", "user", "repo", "q4", "hf weights");
    Path yaml = home.resolve("gatehouse.yaml");
    Files.writeString(
        yaml, "data_dir: " + home.resolve("data") + "\npolicy:\n  allowed_registries: [hf.co]\n");
    assertThat(CliRun.run(Map.of(), "models", "verify", "--dir", store.dir.toString()).out())
        .contains("GH-MODEL-REGISTRY-UNLISTED");
    assertThat(
            CliRun.run(
                    Map.of(),
                    "models",
                    "verify",
                    "--dir",
                    store.dir.toString(),
                    "--config",
                    yaml.toString())
                .code())
        .isZero();
    assertThat(
            CliRun.run(
                    Map.of(),
                    "models",
                    "verify",
                    "--dir",
                    store.dir.toString(),
                    "--allow-registry",
                    "HF.CO")
                .code())
        .isZero();
  }
}
