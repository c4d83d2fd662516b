package dev.gatehouse.integrity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.exchange.ModelName;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Ollama's model store on disk, read without changing it: {@code manifests/<registry>/<namespace>/
 * <model>/<tag>} are image manifests (JSON) that name their layers by SHA-256 digest, and {@code
 * blobs/sha256-<hex>} hold the layers, each named after the SHA-256 of its content.
 */
public final class ModelStore {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One layer a manifest references (the config counts as one).
   *
   * @param mediaType what it is, such as {@code application/vnd.ollama.image.model}
   * @param digest {@code sha256:<hex>}
   * @param size its size in bytes, or -1 when the manifest does not say
   */
  public record Layer(String mediaType, String digest, long size) {
    /** The blob file name for this digest: {@code sha256-<hex>}. */
    public String blobName() {
      return digest.replace(':', '-');
    }
  }

  /**
   * A manifest that parsed.
   *
   * @param name the model it names
   * @param file where it is
   * @param digest {@code sha256:} of the file's bytes: what Ollama shows as the model's digest
   * @param layers the config and the layers, in order
   */
  public record Manifest(ModelName name, Path file, String digest, List<Layer> layers) {
    public Manifest {
      layers = List.copyOf(layers);
    }
  }

  /**
   * A manifest file that did not parse.
   *
   * @param file where it is
   * @param name the name its path gives, or the path itself
   * @param problem why it is not a manifest
   */
  public record Unreadable(Path file, String name, @Nullable String problem) {}

  /**
   * Everything in the store.
   *
   * @param manifests the manifests that parsed, by name
   * @param unreadable the manifest files that did not
   * @param blobs every blob file, by its {@code sha256:<hex>} digest name
   * @param ignored files that are neither (partial downloads, strays), with why
   */
  public record Contents(
      List<Manifest> manifests,
      List<Unreadable> unreadable,
      Map<String, Path> blobs,
      List<String> ignored) {}

  private ModelStore() {}

  /** True when the directory looks like an Ollama model store. */
  public static boolean looksLikeStore(Path dir) {
    return Files.isDirectory(dir.resolve("manifests")) || Files.isDirectory(dir.resolve("blobs"));
  }

  public static Contents read(Path dir) throws IOException {
    List<Manifest> manifests = new ArrayList<>();
    List<Unreadable> unreadable = new ArrayList<>();
    List<String> ignored = new ArrayList<>();
    Path root = dir.resolve("manifests");
    if (Files.isDirectory(root)) {
      List<Path> files;
      try (Stream<Path> walk = Files.walk(root)) {
        files = walk.filter(Files::isRegularFile).sorted().toList();
      }
      for (Path f : files) {
        Path rel = root.relativize(f);
        if (rel.getNameCount() != 4) {
          ignored.add(f + ": not at manifests/<registry>/<namespace>/<model>/<tag>");
          continue;
        }
        ModelName name =
            new ModelName(
                rel.getName(0).toString(),
                rel.getName(1).toString(),
                rel.getName(2).toString(),
                rel.getName(3).toString());
        byte[] bytes = Files.readAllBytes(f);
        try {
          manifests.add(new Manifest(name, f, "sha256:" + Sha256.of(bytes), layers(bytes)));
        } catch (IOException | IllegalArgumentException e) {
          unreadable.add(new Unreadable(f, name.display(), e.getMessage()));
        }
      }
    }
    Map<String, Path> blobs = new TreeMap<>();
    Path blobDir = dir.resolve("blobs");
    if (Files.isDirectory(blobDir)) {
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(blobDir)) {
        for (Path b : entries) {
          String n = b.getFileName().toString();
          if (n.matches("sha256[-:][0-9a-f]{64}") && Files.isRegularFile(b)) {
            blobs.put("sha256:" + n.substring(7), b);
          } else if (n.matches("sha256[-:][0-9a-f]{64}-partial.*")) {
            ignored.add(b + ": a partial download (Ollama resumes or removes it)");
          } else {
            ignored.add(b + ": not a blob name (sha256-<64 hex digits>)");
          }
        }
      }
    }
    ignored.sort(null);
    return new Contents(manifests, unreadable, blobs, ignored);
  }

  /** The config and layers of an image manifest; refuses anything else. */
  static List<Layer> layers(byte[] bytes) throws IOException {
    JsonNode m;
    try {
      m = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "not JSON: " + String.valueOf(e.getMessage()).split("\n")[0]);
    }
    if (m == null || !m.isObject() || !m.path("layers").isArray()) {
      throw new IllegalArgumentException("no \"layers\" array: not an image manifest");
    }
    List<Layer> out = new ArrayList<>();
    if (m.has("config")) {
      out.add(layer(m.get("config")));
    }
    for (JsonNode l : m.get("layers")) {
      out.add(layer(l));
    }
    return out;
  }

  private static Layer layer(JsonNode l) {
    String digest = l.path("digest").asText("");
    if (!digest.matches("sha256:[0-9a-f]{64}")) {
      throw new IllegalArgumentException(
          "layer digest " + l.path("digest") + " is not sha256:<64 hex digits>");
    }
    return new Layer(
        l.path("mediaType").asText(""),
        digest,
        l.path("size").canConvertToLong() ? l.path("size").asLong() : -1);
  }
}
