package dev.gatehouse.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * {@code gatehouse advisories update --from FILE|DIR}: imports an OSV export without the network (a
 * downloaded osv.dev ecosystem zip, a GHSA or Go vulndb JSON file, or a folder of OSV files), keeps
 * the entries of products Gatehouse knows ({@link OsvReader#product}), merges them by id over what
 * earlier imports stored (the newer {@code modified} wins) and writes the result to {@link
 * Advisories#importedFile}, where {@code doctor} and {@code scan} read it. Entries are stored as
 * they came, so nothing of the source is lost. A kept entry that does not read is refused with the
 * whole import: nothing is written.
 */
public final class AdvisoryImport {

  /** Largest JSON document read from an export; osv.dev's entries are a few KiB. */
  static final int MAX_ENTRY_BYTES = 8 << 20;

  /** Most files read from one zip or folder (osv.dev's PyPI export has about 20,000). */
  static final int MAX_FILES = 500_000;

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What an import did.
   *
   * @param read OSV entries read
   * @param kept entries of known products, per product
   * @param added ids that were not stored before
   * @param replaced ids whose stored entry was older
   * @param unchanged ids already stored with the same or a newer modified
   * @param file where the merged imports are stored
   */
  public record Result(
      int read,
      Map<String, Integer> kept,
      List<String> added,
      List<String> replaced,
      int unchanged,
      Path file) {}

  private AdvisoryImport() {}

  /**
   * Imports {@code from} into the data directory.
   *
   * @throws IllegalArgumentException naming the file and entry that could not be read
   * @throws IOException when the result cannot be written
   */
  public static Result run(Path from, Path dataDir) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    List<String> names = new ArrayList<>();
    if (Files.isDirectory(from)) {
      try (Stream<Path> files = Files.walk(from)) {
        for (Path f :
            files
                .filter(p -> p.toString().endsWith(".json") && Files.isRegularFile(p))
                .sorted()
                .toList()) {
          add(docs, names, f.toString(), Files.readAllBytes(f));
        }
      }
    } else if (!Files.isReadable(from)) {
      throw new IllegalArgumentException(
          "--from: "
              + from
              + " (expected: a readable OSV file, osv.dev zip or folder of OSV files)");
    } else if (from.toString().endsWith(".zip")) {
      try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(from))) {
        ZipEntry z;
        while ((z = zip.getNextEntry()) != null) {
          if (!z.isDirectory() && z.getName().endsWith(".json")) {
            add(docs, names, from + "!" + z.getName(), bounded(zip, from + "!" + z.getName()));
          }
        }
      }
    } else {
      add(docs, names, from.toString(), Files.readAllBytes(from));
    }

    List<String> problems = new ArrayList<>();
    Map<String, JsonNode> incoming = new LinkedHashMap<>();
    Map<String, Advisory> parsed = new LinkedHashMap<>();
    Map<String, Integer> kept = new TreeMap<>();
    int read = 0;
    for (int d = 0; d < docs.size(); d++) {
      for (JsonNode entry : entries(docs.get(d))) {
        read++;
        ArrayNode one = JSON.createArrayNode().add(entry);
        List<Advisory> got = OsvReader.read(one, names.get(d), false, problems);
        if (!got.isEmpty()) {
          Advisory a = got.get(0);
          Advisory prev = parsed.get(a.id());
          if (prev == null || a.modified().isAfter(prev.modified())) {
            incoming.put(a.id(), entry);
            parsed.put(a.id(), a);
          }
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "--from: "
              + from
              + ": "
              + problems.size()
              + " entr"
              + (problems.size() == 1 ? "y" : "ies")
              + " of known products could not be read, nothing was imported: "
              + String.join("; ", problems.subList(0, Math.min(20, problems.size()))));
    }
    parsed.values().forEach(a -> kept.merge(a.product(), 1, Integer::sum));

    Path file = Advisories.importedFile(dataDir);
    Map<String, JsonNode> stored = new LinkedHashMap<>();
    Map<String, Instant> storedModified = new LinkedHashMap<>();
    if (Files.exists(file)) {
      JsonNode old = JSON.readTree(Files.readAllBytes(file));
      for (JsonNode e : entries(old)) {
        String id = e.path("id").asText();
        stored.put(id, e);
        storedModified.put(id, modified(e));
      }
    }
    List<String> added = new ArrayList<>();
    List<String> replaced = new ArrayList<>();
    int unchanged = 0;
    for (Map.Entry<String, JsonNode> e : incoming.entrySet()) {
      Instant was = storedModified.get(e.getKey());
      Instant now = java.util.Objects.requireNonNull(parsed.get(e.getKey())).modified();
      if (was == null) {
        added.add(e.getKey());
        stored.put(e.getKey(), e.getValue());
      } else if (now.isAfter(was)) {
        replaced.add(e.getKey());
        stored.put(e.getKey(), e.getValue());
      } else {
        unchanged++;
      }
    }
    ArrayNode outArray = JSON.createArrayNode();
    new TreeMap<>(stored).values().forEach(outArray::add);
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(outArray));
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    return new Result(read, kept, added, replaced, unchanged, file);
  }

  private static void add(List<JsonNode> docs, List<String> names, String name, byte[] bytes) {
    if (docs.size() >= MAX_FILES) {
      throw new IllegalArgumentException(
          "--from: more than " + MAX_FILES + " files (expected: one ecosystem's export)");
    }
    if (bytes.length > MAX_ENTRY_BYTES) {
      throw new IllegalArgumentException(
          "--from: "
              + name
              + " (expected: an OSV document of at most "
              + (MAX_ENTRY_BYTES >> 20)
              + " MiB)");
    }
    try {
      docs.add(JSON.readTree(bytes));
      names.add(name);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--from: "
              + name
              + " (expected: JSON; "
              + String.valueOf(e.getMessage()).split("\n", 2)[0]
              + ")");
    }
  }

  /** Reads one zip entry, refusing one that inflates past the bound (a zip bomb). */
  private static byte[] bounded(InputStream in, String name) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[64 * 1024];
    int n;
    while ((n = in.read(buf)) > 0) {
      if (out.size() + n > MAX_ENTRY_BYTES) {
        throw new IllegalArgumentException(
            "--from: "
                + name
                + " (expected: an OSV document of at most "
                + (MAX_ENTRY_BYTES >> 20)
                + " MiB)");
      }
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  private static List<JsonNode> entries(JsonNode root) {
    List<JsonNode> out = new ArrayList<>();
    if (root == null) {
      return out;
    }
    if (root.isArray()) {
      root.forEach(out::add);
    } else if (root.isObject() && root.path("vulns").isArray()) {
      root.get("vulns").forEach(out::add);
    } else if (root.isObject()) {
      out.add(root);
    }
    return out;
  }

  private static Instant modified(JsonNode e) {
    try {
      return java.time.OffsetDateTime.parse(e.path("modified").asText()).toInstant();
    } catch (java.time.format.DateTimeParseException x) {
      return Instant.EPOCH;
    }
  }
}
