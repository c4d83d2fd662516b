package dev.gatehouse.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Builds an Ollama model store on disk the way Ollama lays it out: blobs named after the SHA-256 of
 * their content, manifests listing a config and layers by digest. Then breaks it on request: a
 * flipped byte, a deleted blob, an orphan, a manifest that is not one.
 */
public final class FakeModelStore {

  public final Path dir;

  public FakeModelStore(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir.resolve("manifests"));
    Files.createDirectories(dir.resolve("blobs"));
  }

  /** Writes a blob with this content; returns its digest, {@code sha256:<hex>}. */
  public String blob(String content) throws IOException {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    String digest = "sha256:" + sha256(bytes);
    Files.write(blobPath(digest), bytes);
    return digest;
  }

  public Path blobPath(String digest) {
    return dir.resolve("blobs").resolve(digest.replace(':', '-'));
  }

  /**
   * Writes a model: a config blob and one blob per layer content, and its manifest at {@code
   * manifests/<registry>/<namespace>/<model>/<tag>}. Returns the digests, config first.
   */
  public List<String> model(
      String registry, String namespace, String model, String tag, String... layers)
      throws IOException {
    List<String> digests = new ArrayList<>();
    digests.add(blob("{\"model_format\":\"gguf\",\"model_family\":\"" + model + "\"}"));
    for (String l : layers) {
      digests.add(blob(l));
    }
    StringBuilder m =
        new StringBuilder(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",");
    m.append("\"config\":")
        .append(layer("application/vnd.docker.container.image.v1+json", digests.get(0)))
        .append(",\"layers\":[");
    for (int i = 1; i < digests.size(); i++) {
      m.append(i > 1 ? "," : "")
          .append(
              layer(
                  i == 1
                      ? "application/vnd.ollama.image.model"
                      : "application/vnd.ollama.image.template",
                  digests.get(i)));
    }
    m.append("]}");
    Path file = manifestPath(registry, namespace, model, tag);
    Files.createDirectories(file.getParent());
    Files.writeString(file, m);
    return digests;
  }

  public Path manifestPath(String registry, String namespace, String model, String tag) {
    return dir.resolve("manifests")
        .resolve(registry)
        .resolve(namespace)
        .resolve(model)
        .resolve(tag);
  }

  private String layer(String mediaType, String digest) throws IOException {
    return "{\"mediaType\":\""
        + mediaType
        + "\",\"digest\":\""
        + digest
        + "\",\"size\":"
        + Files.size(blobPath(digest))
        + "}";
  }

  /** Flips one bit of one byte of a blob, keeping its name and size. */
  public void flipByte(String digest, int offset) throws IOException {
    Path p = blobPath(digest);
    byte[] b = Files.readAllBytes(p);
    b[offset] ^= 0x01;
    Files.write(p, b);
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
