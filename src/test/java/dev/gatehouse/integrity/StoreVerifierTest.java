package dev.gatehouse.integrity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.doctor.Finding;
import dev.gatehouse.doctor.Severity;
import dev.gatehouse.testing.FakeModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** models verify on fake stores with good, corrupted, missing and orphaned blobs. */
class StoreVerifierTest {

  static final Set<String> OLLAMA_ONLY = Set.of("registry.ollama.ai");

  @TempDir Path dir;
  FakeModelStore store;
  List<String> llama;
  List<String> qwen;

  @BeforeEach
  void twoModelsSharingATemplate() throws Exception {
    store = new FakeModelStore(dir);
    llama =
        store.model(
            "registry.ollama.ai",
            "library",
            "llama3.2",
            "3b",
            "GGUF llama weights " + "x".repeat(3000),
            "{{ .Prompt }}");
    qwen =
        store.model(
            "registry.ollama.ai",
            "library",
            "qwen2.5",
            "latest",
            "GGUF qwen weights",
            "{{ .Prompt }}");
  }

  private static List<String> ids(StoreVerifier.Result r) {
    return r.findings().stream().map(Finding::id).toList();
  }

  @Test
  void aGoodStoreVerifiesCleanAndPinsEachModelToItsManifestDigest() throws Exception {
    // why: the baseline; shared blobs are normal and not orphans
    StoreVerifier.Result r = StoreVerifier.verify(dir, OLLAMA_ONLY, StoreVerifier.Progress.NONE);
    assertThat(r.findings()).isEmpty();
    assertThat(r.clean()).isTrue();
    String manifest =
        "sha256:"
            + FakeModelStore.sha256(
                Files.readAllBytes(
                    store.manifestPath("registry.ollama.ai", "library", "llama3.2", "3b")));
    assertThat(r.pins().entries()).containsOnlyKeys("llama3.2:3b", "qwen2.5:latest");
    assertThat(r.pins().digestFor("llama3.2:3b")).isEqualTo(manifest);
    assertThat(r.pins().digestFor("qwen2.5")).isNotNull();
  }

  @Test
  void aSingleFlippedByteIsCaught() throws Exception {
    // why: the acceptance case; the name still claims the old digest and the size is
    // unchanged
    store.flipByte(llama.get(1), 1500);
    StoreVerifier.Result r = StoreVerifier.verify(dir, OLLAMA_ONLY, StoreVerifier.Progress.NONE);
    assertThat(ids(r)).containsExactly("GH-MODEL-BLOB-CORRUPT");
    Finding f = r.findings().get(0);
    assertThat(f.severity()).isEqualTo(Severity.HIGH);
    assertThat(f.subject()).isEqualTo("blob " + llama.get(1).replace(':', '-'));
    assertThat(f.evidence())
        .anyMatch(e -> e.contains("named " + llama.get(1) + ", but its content hashes to sha256:"));
    assertThat(f.evidence()).contains("used by llama3.2:3b");
    assertThat(f.fix()).contains("ollama pull llama3.2:3b");
    assertThat(r.clean()).isFalse();
  }

  @Test
  void aMissingBlobIsReportedForEveryModelThatNeedsIt() throws Exception {
    // why: the shared template is gone: both models are broken
    Files.delete(store.blobPath(llama.get(2)));
    StoreVerifier.Result r = StoreVerifier.verify(dir, OLLAMA_ONLY, StoreVerifier.Progress.NONE);
    assertThat(r.findings())
        .extracting(Finding::id, Finding::subject)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("GH-MODEL-BLOB-MISSING", "model llama3.2:3b"),
            org.assertj.core.groups.Tuple.tuple("GH-MODEL-BLOB-MISSING", "model qwen2.5:latest"));
    assertThat(r.clean()).isFalse();
  }

  @Test
  void anOrphanBlobIsLowAndPartialDownloadsAreIgnored() throws Exception {
    // why: leftovers are untidy, not dangerous; a download in progress is neither
    String orphan = store.blob("left behind by a deleted model");
    Files.writeString(
        dir.resolve("blobs").resolve("sha256-" + "ab".repeat(32) + "-partial"), "half");
    StoreVerifier.Result r = StoreVerifier.verify(dir, OLLAMA_ONLY, StoreVerifier.Progress.NONE);
    assertThat(ids(r)).containsExactly("GH-MODEL-BLOB-ORPHAN");
    assertThat(r.findings().get(0).severity()).isEqualTo(Severity.LOW);
    assertThat(r.findings().get(0).subject()).isEqualTo("blob " + orphan.replace(':', '-'));
    assertThat(r.notes()).anyMatch(n -> n.contains("-partial: a partial download"));
    assertThat(r.clean()).isTrue();
  }

  @Test
  void modelsFromOtherRegistriesAreFlaggedUnlessAllowed() throws Exception {
    // why: a model pulled from an arbitrary registry is the CVE-2024-37032 delivery path
    store.model("hf.co", "bartowski", "llama-3.2-1b-instruct-gguf", "q4_k_m", "hf weights");
    StoreVerifier.Result r = StoreVerifier.verify(dir, OLLAMA_ONLY, StoreVerifier.Progress.NONE);
    assertThat(ids(r)).containsExactly("GH-MODEL-REGISTRY-UNLISTED");
    assertThat(r.findings().get(0).subject())
        .isEqualTo("model hf.co/bartowski/llama-3.2-1b-instruct-gguf:q4_k_m");
    assertThat(
            StoreVerifier.verify(
                    dir, Set.of("registry.ollama.ai", "hf.co"), StoreVerifier.Progress.NONE)
                .findings())
        .isEmpty();
  }

  @Test
  void aManifestThatIsNotOneIsInvalidAndATraversalDigestIsRefused() throws Exception {
    // why: Probllama put "../" in a digest; such a manifest must never be followed to a path
    Path bad = store.manifestPath("registry.ollama.ai", "library", "evil", "latest");
    Files.createDirectories(bad.getParent());
    Files.writeString(
        bad,
        "{\"schemaVersion\":2,\"layers\":[{\"digest\":\"sha256:../../../../etc/passwd\",\"size\":1}]}");
    Path garbage = store.manifestPath("registry.ollama.ai", "library", "garbage", "latest");
    Files.createDirectories(garbage.getParent());
    Files.writeString(garbage, "not json");
    StoreVerifier.Result r = StoreVerifier.verify(dir, OLLAMA_ONLY, StoreVerifier.Progress.NONE);
    assertThat(r.findings())
        .extracting(Finding::subject)
        .containsExactlyInAnyOrder("manifest evil:latest", "manifest garbage:latest");
    assertThat(ids(r)).containsOnly("GH-MODEL-MANIFEST-INVALID");
  }

  @Test
  void progressCoversEveryByteHashed() throws Exception {
    // why: the bar must reach 100%, and only count what is read
    List<Long> seen = new ArrayList<>();
    long[] total = new long[1];
    StoreVerifier.verify(
        dir,
        OLLAMA_ONLY,
        new StoreVerifier.Progress() {
          @Override
          public void start(long totalBytes, int blobs) {
            total[0] = totalBytes;
          }

          @Override
          public void advance(long bytes, String blob) {
            seen.add(bytes);
          }

          @Override
          public void done() {}
        });
    assertThat(seen.stream().mapToLong(Long::longValue).sum()).isEqualTo(total[0]).isPositive();
  }
}
