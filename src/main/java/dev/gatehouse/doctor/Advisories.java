package dev.gatehouse.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The advisory database: the OSV entries shipped inside Gatehouse ({@code advisories/osv.json} on
 * the class path), merged with those imported by {@code gatehouse advisories update} (stored beside
 * the key store, {@code DATA_DIR/advisories/imported.json}), or a file the operator names with
 * {@code --advisories}. Merging is by id: the entry with the newer {@code modified} wins. Immutable
 * once loaded; a malformed file is refused whole.
 *
 * <p>One JSON array rather than a file per entry: a class path inside a jar cannot be listed, so
 * one file needs no index to stay in step with, and a review sees every change in one diff.
 */
public final class Advisories {

  /** The shipped data, on the class path. */
  public static final String RESOURCE = "/advisories/osv.json";

  /** Data older than this is reported as stale. */
  public static final Duration STALE = Duration.ofDays(90);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String source;
  private final List<Advisory> all;

  Advisories(String source, List<Advisory> all) {
    this.source = source;
    this.all = List.copyOf(all);
  }

  /** The copy shipped with this build. */
  public static Advisories builtIn() {
    try (InputStream in = Advisories.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the class path");
      }
      return parse("built-in " + RESOURCE.substring(1), in.readAllBytes(), true);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the built-in advisories: " + e.getMessage(), e);
    }
  }

  /** Where {@code advisories update} stores its imports for this data directory. */
  public static Path importedFile(Path dataDir) {
    return dataDir.resolve("advisories").resolve("imported.json");
  }

  /**
   * The built-in entries merged with the imported ones of this data directory, if any. Reads only:
   * a missing file is no import, never created here.
   *
   * @throws IllegalArgumentException when the imported file is unreadable or malformed
   */
  public static Advisories forDataDir(Path dataDir) {
    Advisories shipped = builtIn();
    Path file = importedFile(dataDir);
    if (!Files.exists(file)) {
      return shipped;
    }
    return shipped.merge(load(file, false));
  }

  /**
   * Reads an OSV file (one entry, an array, or {@code {"vulns": [...]}}).
   *
   * @param strict require Gatehouse's own fields (as the shipped data has them)
   * @throws IllegalArgumentException with a {@code --advisories: FILE (expected: ...)} message
   */
  public static Advisories load(Path file, boolean strict) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--advisories: "
              + file
              + " (expected: a readable OSV JSON file; "
              + e.getMessage()
              + ")");
    }
    return parse(file.toString(), bytes, strict);
  }

  /** Reads an OSV file as the operator's override: Gatehouse's fields are used when present. */
  public static Advisories load(Path file) {
    return load(file, false);
  }

  static Advisories parse(String source, byte[] bytes, boolean strict) {
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(
          "--advisories: " + source + " (expected: JSON; " + e.getOriginalMessage() + ")");
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--advisories: " + source + " (expected: JSON; " + e.getMessage() + ")");
    }
    List<String> problems = new ArrayList<>();
    List<Advisory> list = OsvReader.read(root, source, strict, problems);
    Map<String, Advisory> byId = new LinkedHashMap<>();
    for (Advisory a : list) {
      if (byId.put(a.id(), a) != null) {
        problems.add(a.id() + ": appears twice (expected: each id once)");
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "--advisories: "
              + source
              + " has "
              + problems.size()
              + " problem(s): "
              + String.join("; ", problems));
    }
    return new Advisories(source, list);
  }

  /** These entries with {@code newer}'s merged over them by id; the newer {@code modified} wins. */
  public Advisories merge(Advisories newer) {
    Map<String, Advisory> byId = new LinkedHashMap<>();
    all.forEach(a -> byId.put(a.id(), a));
    for (Advisory a : newer.all) {
      byId.merge(
          a.id(),
          a,
          (old, imported) -> imported.modified().isAfter(old.modified()) ? imported : old);
    }
    return new Advisories(source + " + " + newer.source, new ArrayList<>(byId.values()));
  }

  /** Where these came from, for notes. */
  public String source() {
    return source;
  }

  public List<Advisory> all() {
    return all;
  }

  /** The entries for one product, in id order. */
  public List<Advisory> forProduct(String product) {
    return all.stream()
        .filter(a -> a.product().equals(product))
        .sorted(Comparator.comparing(Advisory::id))
        .toList();
  }

  /** Advisories for this product that affect this version (null: not readable). */
  public List<Advisory> affecting(String product, Version version) {
    return all.stream().filter(a -> a.product().equals(product) && a.affects(version)).toList();
  }

  /** API-reachable advisories of this product that this version cannot be judged against. */
  public List<Advisory> undecided(String product, @Nullable Version version) {
    return all.stream()
        .filter(
            a ->
                a.product().equals(product)
                    && a.apiReachable()
                    && a.judge(version) == Advisory.Verdict.UNKNOWN)
        .toList();
  }

  /**
   * True when some advisory for this product could not be judged because the version is unknown.
   */
  public boolean needsVersion(String product) {
    return all.stream().anyMatch(a -> a.product().equals(product) && !a.affectsEveryRelease());
  }

  /** The newest {@code modified} of any entry: how current the data is. */
  public Instant newest() {
    return all.stream()
        .map(Advisory::modified)
        .max(Comparator.naturalOrder())
        .orElse(Instant.EPOCH);
  }

  /** The age of the data at {@code now}, never negative. */
  public Duration age(Instant now) {
    Duration d = Duration.between(newest(), now);
    return d.isNegative() ? Duration.ZERO : d;
  }
}
