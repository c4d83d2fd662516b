package dev.gatehouse.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The advisory database: the copy shipped inside Gatehouse ({@code advisories.json} on the class
 * path), or a newer file the operator names with {@code --advisories}. Data, not code: updating it
 * needs no release. Immutable once loaded; a malformed file is refused whole.
 */
public final class Advisories {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> CONFIDENCE = Set.of("confirmed", "secondary");

  private final String source;
  private final List<Advisory> all;

  private Advisories(String source, List<Advisory> all) {
    this.source = source;
    this.all = List.copyOf(all);
  }

  /** The copy shipped with this build. */
  public static Advisories builtIn() {
    try (InputStream in = Advisories.class.getResourceAsStream("/advisories.json")) {
      if (in == null) {
        throw new IllegalStateException("advisories.json is missing from the class path");
      }
      return parse("built-in advisories.json", in.readAllBytes());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the built-in advisories.json: " + e.getMessage(), e);
    }
  }

  /**
   * Reads an override file.
   *
   * @throws IllegalArgumentException with a {@code --advisories: FILE (expected: ...)} message
   */
  public static Advisories load(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("--advisories: " + file + " (expected: a readable advisories.json; " + e.getMessage() + ")");
    }
    return parse(file.toString(), bytes);
  }

  static Advisories parse(String source, byte[] bytes) {
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("--advisories: " + source + " (expected: JSON; " + e.getOriginalMessage() + ")");
    } catch (IOException e) {
      throw new IllegalArgumentException("--advisories: " + source + " (expected: JSON; " + e.getMessage() + ")");
    }
    if (root == null || !root.path("advisories").isArray()) {
      throw new IllegalArgumentException("--advisories: " + source + " (expected: an object with an \"advisories\" array)");
    }
    List<Advisory> list = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    int i = 0;
    for (JsonNode a : root.get("advisories")) {
      String where = "advisories[" + i++ + "]";
      String id = a.path("id").asText("");
      String product = a.path("product").asText("");
      Severity severity = Severity.parse(a.path("severity").asText(""));
      if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{2,63}")) {
        problems.add(where + ".id: " + a.path("id") + " (expected: an advisory id such as CVE-2024-37032)");
        continue;
      }
      if (product.isEmpty() || severity == null) {
        problems.add(where + " (" + id + "): product and severity (info, low, medium, high, critical) are required");
        continue;
      }
      Version fixed = version(a, "fixed", where, problems);
      Version from = version(a, "affected_from", where, problems);
      Version through = version(a, "affected_through", where, problems);
      List<String> endpoints = new ArrayList<>();
      a.path("endpoints").forEach(e -> endpoints.add(e.asText()));
      String confidence = a.path("confidence").asText("confirmed");
      if (!CONFIDENCE.contains(confidence)) {
        problems.add(where + ".confidence: " + confidence + " (expected: confirmed or secondary)");
      }
      list.add(new Advisory(id, product, fixed, from, through, endpoints, severity, a.path("summary").asText(""), confidence));
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("--advisories: " + source + " has " + problems.size() + " problem(s): " + String.join("; ", problems));
    }
    return new Advisories(source, list);
  }

  private static Version version(JsonNode a, String field, String where, List<String> problems) {
    JsonNode n = a.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    Version v = Version.parse(n.asText());
    if (v == null) {
      problems.add(where + "." + field + ": " + n + " (expected: a version such as 0.1.34, or null)");
    }
    return v;
  }

  /** Where these came from, for notes. */
  public String source() {
    return source;
  }

  public List<Advisory> all() {
    return all;
  }

  /** Advisories for this product that affect this version (null: not readable). */
  public List<Advisory> affecting(String product, Version version) {
    return all.stream().filter(a -> a.product().equals(product) && a.affects(version)).toList();
  }

  /** True when some advisory for this product could not be judged because the version is unknown. */
  public boolean needsVersion(String product) {
    return all.stream().anyMatch(a -> a.product().equals(product) && !a.affectsEveryRelease());
  }
}
