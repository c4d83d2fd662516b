package dev.gatehouse.pins;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.exchange.ModelName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * A model lock file: which manifest digest each model name must have. Written by {@code gatehouse
 * models verify --pin FILE} from a store that verified clean; read by whoever enforces it (the
 * gateway, with {@code models.pinned}). Immutable and thread-safe once loaded.
 *
 * <p>The file is JSON, sorted by name and without timestamps so that it diffs cleanly in review:
 *
 * <pre>{@code
 * {
 *   "gatehouse_model_pins" : 1,
 *   "models" : {
 *     "llama3.2:3b" : "sha256:a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72"
 *   }
 * }
 * }</pre>
 *
 * <p>A manifest digest is the SHA-256 of the manifest file, the same value Ollama shows as a
 * model's {@code digest} in {@code /api/tags}; the manifest in turn names every blob by its
 * SHA-256, so pinning it pins the weights, template and parameters.
 */
public final class ModelPins {

  /** The format version this class reads and writes. */
  public static final int FORMAT = 1;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Canonical name to digest, for lookups. */
  private final Map<String, String> byCanonical;

  /** Display name to digest, sorted, for writing. */
  private final Map<String, String> byDisplay;

  private ModelPins(Map<String, String> byCanonical, Map<String, String> byDisplay) {
    this.byCanonical = Collections.unmodifiableMap(byCanonical);
    this.byDisplay = Collections.unmodifiableMap(byDisplay);
  }

  /**
   * Pins these names to these digests.
   *
   * @throws IllegalArgumentException when a name is not a model name or a digest not {@code
   *     sha256:<64 hex>}
   */
  public static ModelPins of(Map<String, String> nameToDigest) {
    Map<String, String> canonical = new LinkedHashMap<>();
    Map<String, String> display = new TreeMap<>();
    for (Map.Entry<String, String> e : nameToDigest.entrySet()) {
      ModelName n = ModelName.parse(e.getKey());
      if (n == null) {
        throw new IllegalArgumentException(
            "models: " + e.getKey() + " (expected: a model name such as llama3.2:3b)");
      }
      String digest = e.getValue();
      if (digest == null || !digest.matches("sha256:[0-9a-f]{64}")) {
        throw new IllegalArgumentException(
            "models."
                + e.getKey()
                + ": "
                + digest
                + " (expected: sha256: and 64 lower-case hex digits)");
      }
      String previous = canonical.put(n.canonical(), digest);
      if (previous != null && !previous.equals(digest)) {
        throw new IllegalArgumentException(
            "models."
                + e.getKey()
                + ": "
                + digest
                + " (expected: one digest per model; "
                + n.display()
                + " is also pinned to "
                + previous
                + ")");
      }
      display.put(n.display(), digest);
    }
    return new ModelPins(canonical, display);
  }

  /**
   * Reads a lock file.
   *
   * @throws IOException when it cannot be read
   * @throws IllegalArgumentException when it is not a lock file this version understands
   */
  public static ModelPins load(Path file) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readAllBytes(file));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          file + ": " + e.getOriginalMessage() + " (expected: a JSON model lock file)");
    }
    if (root == null
        || root.path("gatehouse_model_pins").asInt(-1) != FORMAT
        || !root.path("models").isObject()) {
      throw new IllegalArgumentException(
          file
              + ": (expected: an object with \"gatehouse_model_pins\": "
              + FORMAT
              + " and a \"models\" object)");
    }
    Map<String, String> pins = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : root.get("models").properties()) {
      pins.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : null);
    }
    try {
      return of(pins);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage());
    }
  }

  /**
   * The digest this model is pinned to, or null when it is not pinned (or the name is not a model
   * name). {@code llama3}, {@code llama3:latest} and the fully qualified form are the same.
   */
  public @Nullable String digestFor(String model) {
    ModelName n = ModelName.parse(model);
    return n == null ? null : byCanonical.get(n.canonical());
  }

  /** The digest this parsed model is pinned to, or null. */
  public @Nullable String digestFor(ModelName n) {
    return byCanonical.get(n.canonical());
  }

  /** The pins by display name, sorted. */
  public Map<String, String> entries() {
    return byDisplay;
  }

  public int size() {
    return byDisplay.size();
  }

  /** Writes the lock file; replaces an existing one only once the new one is complete. */
  public void write(Path file) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("gatehouse_model_pins", FORMAT);
    ObjectNode models = root.putObject("models");
    byDisplay.forEach(models::put);
    DefaultPrettyPrinter printer =
        new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"));
    String text = JSON.writer(printer).writeValueAsString(root) + "\n";
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = Files.createTempFile(dir, ".pins", ".tmp");
    try {
      Files.writeString(tmp, text);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
