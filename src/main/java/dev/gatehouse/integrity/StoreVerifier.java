package dev.gatehouse.integrity;

import dev.gatehouse.doctor.Finding;
import dev.gatehouse.doctor.Rule;
import dev.gatehouse.doctor.Subject;
import dev.gatehouse.pins.ModelPins;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code gatehouse models verify}: recomputes every blob's SHA-256 and compares it with the blob's
 * name, and checks that every manifest's blobs are present, that every blob belongs to some
 * manifest, and that every model comes from an allowed registry. The store is only read.
 */
public final class StoreVerifier {

  /** Told how hashing advances; the CLI draws a progress bar with it. */
  public interface Progress {
    void start(long totalBytes, int blobs);

    void advance(long bytes, String blob);

    void done();

    Progress NONE =
        new Progress() {
          @Override
          public void start(long totalBytes, int blobs) {}

          @Override
          public void advance(long bytes, String blob) {}

          @Override
          public void done() {}
        };
  }

  /**
   * What verification found.
   *
   * @param subject the store as examined
   * @param findings its problems
   * @param notes what was skipped and why
   * @param pins every parsed manifest's digest by model name, for {@code --pin}
   * @param clean true when no blob is corrupt or missing and every manifest parsed, so the pins
   *     describe a store worth pinning
   */
  public record Result(
      Subject subject, List<Finding> findings, List<String> notes, ModelPins pins, boolean clean) {}

  private StoreVerifier() {}

  public static Result verify(Path dir, Set<String> allowedRegistries, Progress progress)
      throws IOException {
    ModelStore.Contents c = ModelStore.read(dir);
    List<Finding> findings = new ArrayList<>();
    List<String> notes = new ArrayList<>(c.ignored().stream().map(i -> "ignored " + i).toList());

    for (ModelStore.Unreadable u : c.unreadable()) {
      findings.add(
          Finding.of(
                  Rule.MODEL_MANIFEST_INVALID,
                  Rule.MODEL_MANIFEST_INVALID.usual(),
                  "manifest " + u.name())
              .withEvidence(u.file() + ": " + u.problem())
              .withFix(
                  "Pull the model again to replace the manifest: ollama pull "
                      + u.name()
                      + " (or remove it: ollama rm "
                      + u.name()
                      + ").")
              .withLocation(u.file().toAbsolutePath().toString()));
    }

    // Which models use which blob, and the size each manifest expects.
    Map<String, Set<String>> users = new TreeMap<>();
    Map<String, Long> expectedSize = new LinkedHashMap<>();
    Map<String, String> pins = new TreeMap<>();
    for (ModelStore.Manifest m : c.manifests()) {
      pins.put(m.name().display(), m.digest());
      List<String> missing = new ArrayList<>();
      for (ModelStore.Layer l : m.layers()) {
        users.computeIfAbsent(l.digest(), k -> new TreeSet<>()).add(m.name().display());
        if (l.size() >= 0) {
          expectedSize.putIfAbsent(l.digest(), l.size());
        }
        if (!c.blobs().containsKey(l.digest())) {
          missing.add(
              (l.mediaType().isEmpty() ? "layer" : l.mediaType())
                  + " "
                  + l.digest()
                  + ": "
                  + dir.resolve("blobs").resolve(l.blobName())
                  + " does not exist");
        }
      }
      if (!missing.isEmpty()) {
        findings.add(
            Finding.of(
                    Rule.MODEL_BLOB_MISSING,
                    Rule.MODEL_BLOB_MISSING.usual(),
                    "model " + m.name().display())
                .withEvidence(missing)
                .withEvidence("manifest " + m.file())
                .withFix(
                    "Pull the model again to restore its blobs: ollama pull "
                        + m.name().display()
                        + " (or remove it: ollama rm "
                        + m.name().display()
                        + ").")
                .withLocation(m.file().toAbsolutePath().toString()));
      }
      if (!allowedRegistries.contains(m.name().registry())) {
        findings.add(
            Finding.of(
                    Rule.MODEL_REGISTRY_UNLISTED,
                    Rule.MODEL_REGISTRY_UNLISTED.usual(),
                    "model " + m.name().display())
                .withEvidence(
                    "registry " + m.name().registry() + " (manifest " + m.file() + ")",
                    "allowed: " + String.join(", ", new TreeSet<>(allowedRegistries)))
                .withFix(
                    "If you trust "
                        + m.name().registry()
                        + ", allow it: add it to policy.allowed_registries in gatehouse.yaml (or pass"
                        + " --allow-registry "
                        + m.name().registry()
                        + "). Otherwise remove the model: ollama rm "
                        + m.name().display()
                        + ".")
                .withLocation(m.file().toAbsolutePath().toString()));
      }
    }

    long total = 0;
    for (Path b : c.blobs().values()) {
      total += Files.size(b);
    }
    progress.start(total, c.blobs().size());
    long hashed = 0;
    for (Map.Entry<String, Path> e : c.blobs().entrySet()) {
      String digest = e.getKey();
      Path blob = e.getValue();
      long size = Files.size(blob);
      String actual =
          "sha256:" + Sha256.of(blob, n -> progress.advance(n, blob.getFileName().toString()));
      hashed += size;
      Set<String> usedBy = users.getOrDefault(digest, Set.of());
      String subject = "blob " + blob.getFileName();
      if (!actual.equals(digest)) {
        Set<String> evidence = new LinkedHashSet<>();
        evidence.add(blob + ": named " + digest + ", but its content hashes to " + actual);
        Long expected = expectedSize.get(digest);
        evidence.add(
            size
                + " bytes"
                + (expected != null && expected != size ? "; the manifest says " + expected : ""));
        evidence.add(
            usedBy.isEmpty() ? "used by no model" : "used by " + String.join(", ", usedBy));
        String pull =
            usedBy.isEmpty() ? "" : " && ollama pull " + String.join(" && ollama pull ", usedBy);
        findings.add(
            Finding.of(Rule.MODEL_BLOB_CORRUPT, Rule.MODEL_BLOB_CORRUPT.usual(), subject)
                .withEvidence(List.copyOf(evidence))
                .withFix(
                    "Delete it and pull what uses it again: rm "
                        + blob
                        + pull
                        + ". If nothing should have changed it, treat the"
                        + " machine as possibly tampered with: the server loads and runs what this file contains.")
                .withLocation(blob.toAbsolutePath().toString()));
      }
      if (usedBy.isEmpty()) {
        findings.add(
            Finding.of(Rule.MODEL_BLOB_ORPHAN, Rule.MODEL_BLOB_ORPHAN.usual(), subject)
                .withEvidence(blob + ": " + size + " bytes, referenced by no manifest")
                .withFix(
                    "Ollama removes unreferenced blobs when it starts (unless OLLAMA_NOPRUNE is set); or delete it: rm "
                        + blob
                        + ".")
                .withLocation(blob.toAbsolutePath().toString()));
      }
    }
    progress.done();

    boolean clean =
        findings.stream()
            .noneMatch(
                f ->
                    f.id().equals(Rule.MODEL_BLOB_CORRUPT.id())
                        || f.id().equals(Rule.MODEL_BLOB_MISSING.id())
                        || f.id().equals(Rule.MODEL_MANIFEST_INVALID.id()));
    Subject subject =
        new Subject("store", dir.toString())
            .with("models", String.valueOf(c.manifests().size() + c.unreadable().size()))
            .with("blobs", c.blobs().size() + ", " + hashed + " bytes hashed")
            .with("allowed registries", String.join(", ", new TreeSet<>(allowedRegistries)));
    return new Result(subject, findings, notes, ModelPins.of(pins), clean);
  }
}
