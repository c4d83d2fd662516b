package dev.gatehouse.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.exchange.Operation;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads OSV entries (the format of osv.dev, GHSA and Go's vulndb, schema 1.x) into {@link Advisory}
 * values, checking each field Gatehouse relies on by hand: the required {@code id} and {@code
 * modified}, the shape of {@code aliases}, {@code severity}, {@code affected[].package}, {@code
 * ranges} (type, {@code repo} for GIT, events with exactly one of introduced, fixed, last_affected
 * or limit, at least one introduced) and {@code references}, and that every version in a range
 * parses in the product's scheme. Problems are collected per entry ({@code
 * ID.affected[0].ranges[1].events[0]: ... (expected: ...)}) so a bad file is refused with all of
 * them at once.
 *
 * <p>Hand-written rather than a JSON Schema validator: it needs no further dependency (the
 * validators on Maven Central bring their own logging binding and URI loaders), and its messages
 * name the entry and the field in the shape of Gatehouse's configuration errors.
 *
 * <p>Products are recognised by package and repository: Go {@code github.com/ollama/ollama}, Go
 * {@code github.com/mudler/LocalAI} (or its old {@code go-skynet} path), PyPI {@code vllm}, a GIT
 * range or package naming {@code github.com/ggml-org/llama.cpp} (or {@code ggerganov/llama.cpp}),
 * and {@code lmstudio-ai} repositories. {@code llama-cpp-python} and other bindings are different
 * software and are not matched.
 */
public final class OsvReader {

  /** Gatehouse's own fields, under {@code affected[].database_specific}. */
  public static final String GATEHOUSE = "gatehouse";

  static final Set<String> CONFIDENCE = Set.of("confirmed", "reported", "secondary", "imported");
  private static final Set<String> EVENT_KINDS =
      Set.of("introduced", "fixed", "last_affected", "limit");

  private OsvReader() {}

  /**
   * Reads entries from an OSV document: one entry, an array of entries, or an osv.dev API answer
   * ({@code {"vulns": [...]}}). Entries for products Gatehouse does not know are left out; with
   * {@code strict}, Gatehouse's own fields are required (the shipped data).
   *
   * @param problems where problems are added; entries with problems are left out
   */
  public static List<Advisory> read(
      JsonNode root, String origin, boolean strict, List<String> problems) {
    List<JsonNode> entries = new ArrayList<>();
    if (root != null && root.isArray()) {
      root.forEach(entries::add);
    } else if (root != null && root.isObject() && root.path("vulns").isArray()) {
      root.get("vulns").forEach(entries::add);
    } else if (root != null && root.isObject()) {
      entries.add(root);
    } else {
      problems.add(origin + " (expected: an OSV entry, an array of entries or {\"vulns\": [...]})");
      return List.of();
    }
    List<Advisory> out = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      Advisory a = entry(entries.get(i), origin, "[" + i + "]", strict, problems);
      if (a != null) {
        out.add(a);
      }
    }
    return out;
  }

  /**
   * The product an OSV {@code affected} element is about, or null when Gatehouse does not know it.
   */
  public static @Nullable String product(JsonNode affected) {
    String declared = affected.path("database_specific").path(GATEHOUSE).path("product").asText("");
    if (!declared.isEmpty()) {
      return declared;
    }
    String eco = affected.path("package").path("ecosystem").asText("");
    String name = affected.path("package").path("name").asText("").toLowerCase(Locale.ROOT);
    if (eco.equals("Go")) {
      if (name.equals("github.com/ollama/ollama") || name.startsWith("github.com/ollama/ollama/")) {
        return "ollama";
      }
      if (name.matches("github\\.com/(mudler|go-skynet)/localai(/.*)?")) {
        return "localai";
      }
    }
    if (eco.equals("PyPI") && name.equals("vllm")) {
      return "vllm";
    }
    List<String> repos = new ArrayList<>();
    repos.add(name);
    affected
        .path("ranges")
        .forEach(r -> repos.add(r.path("repo").asText("").toLowerCase(Locale.ROOT)));
    for (String repo : repos) {
      String r =
          repo.replaceFirst("^https?://", "").replaceFirst("\\.git$", "").replaceFirst("/$", "");
      if (r.equals("github.com/ggml-org/llama.cpp") || r.equals("github.com/ggerganov/llama.cpp")) {
        return "llama.cpp";
      }
      if (r.equals("github.com/ollama/ollama")) {
        return "ollama";
      }
      if (r.equals("github.com/mudler/localai") || r.equals("github.com/go-skynet/localai")) {
        return "localai";
      }
      if (r.equals("github.com/vllm-project/vllm")) {
        return "vllm";
      }
      if (r.startsWith("github.com/lmstudio-ai/")) {
        return "lmstudio";
      }
    }
    return null;
  }

  /**
   * The versioning scheme of a range of this type for this product; null for untranslated commits.
   */
  static Version.@Nullable Scheme scheme(String product, String type) {
    return switch (product) {
      case "vllm" -> Version.Scheme.PEP440;
      case "lmstudio" -> Version.Scheme.LMSTUDIO;
      case "llama.cpp" ->
          type.equals("SEMVER")
              ? Version.Scheme.SEMVER
              : type.equals("ECOSYSTEM") ? Version.Scheme.LLAMA_BUILD : null;
      default -> type.equals("GIT") ? null : Version.Scheme.SEMVER;
    };
  }

  private static @Nullable Advisory entry(
      JsonNode e, String origin, String index, boolean strict, List<String> problems) {
    int before = problems.size();
    if (!e.isObject()) {
      problems.add(origin + index + " (expected: an OSV entry object)");
      return null;
    }
    JsonNode affectedList = e.path("affected");
    if (!affectedList.isArray()) {
      if (!strict) {
        return null; // OSV allows entries without affected (withdrawn or unreviewed): nothing to
        // match
      }
      problems.add(origin + index + ".affected (expected: an array)");
      return null;
    }
    // Which affected element is about a product Gatehouse knows; the others are ignored.
    int chosen = -1;
    String product = null;
    for (int i = 0; i < affectedList.size(); i++) {
      String p = product(affectedList.get(i));
      if (p != null) {
        chosen = i;
        product = p;
        break;
      }
    }
    if (product == null) {
      if (strict) {
        problems.add(origin + index + ".affected: no element names a product Gatehouse knows");
      }
      return null; // another product's entry in an export: not ours to judge
    }
    String id = e.path("id").asText("");
    String where = id.matches("[A-Za-z0-9][A-Za-z0-9._:-]{2,127}") ? id : origin + index;
    if (!id.equals(where)) {
      problems.add(
          where + ".id: " + e.path("id") + " (expected: an advisory id such as CVE-2024-37032)");
      return null;
    }
    Instant modified = time(e.path("modified"), where + ".modified", problems);
    strings(e, "aliases", where, problems);
    for (String f : List.of("summary", "details", "schema_version", "published", "withdrawn")) {
      if (e.has(f) && !e.get(f).isTextual()) {
        problems.add(where + "." + f + " (expected: a string)");
      }
    }
    if (e.has("withdrawn")) {
      return null; // a withdrawn entry matches nothing (OSV: "withdrawn" marks it no longer valid)
    }
    String cvss = null;
    JsonNode sev = e.path("severity");
    if (e.has("severity") && !sev.isArray()) {
      problems.add(where + ".severity (expected: an array of {type, score})");
    }
    for (int i = 0; i < sev.size(); i++) {
      JsonNode s = sev.get(i);
      String type = s.path("type").asText("");
      String score = s.path("score").asText("");
      if (type.isEmpty() || score.isEmpty()) {
        problems.add(where + ".severity[" + i + "] (expected: {\"type\": ..., \"score\": ...})");
      } else if (type.equals("CVSS_V3")) {
        try {
          Cvss31.baseScore(score);
          cvss = score;
        } catch (IllegalArgumentException x) {
          problems.add(where + ".severity[" + i + "].score: " + x.getMessage());
        }
      }
    }
    JsonNode refs = e.path("references");
    List<String> links = new ArrayList<>();
    if (e.has("references") && !refs.isArray()) {
      problems.add(where + ".references (expected: an array of {type, url})");
    }
    for (int i = 0; i < refs.size(); i++) {
      String url = refs.get(i).path("url").asText("");
      if (!url.startsWith("https://") && !url.startsWith("http://")) {
        problems.add(
            where
                + ".references["
                + i
                + "].url: "
                + refs.get(i).path("url")
                + " (expected: an http(s) URL)");
      }
      links.add(url);
    }

    String at = where + ".affected[" + chosen + "]";
    JsonNode affected = affectedList.get(chosen);
    JsonNode pkg = affected.path("package");
    if (affected.has("package")
        && !(pkg.path("ecosystem").isTextual() && pkg.path("name").isTextual())) {
      problems.add(at + ".package (expected: {\"ecosystem\": ..., \"name\": ...})");
    }
    List<Advisory.Range> ranges = ranges(affected, product, at, problems);
    JsonNode g = affected.path("database_specific").path(GATEHOUSE);
    if (strict && !g.isObject()) {
      problems.add(
          at
              + ".database_specific.gatehouse (expected: Gatehouse's fields: product, endpoints, api_reachable, unauthenticated, severity, confidence, confidence_rule, sources_checked)");
      return null;
    }
    List<String> endpoints = new ArrayList<>();
    g.path("endpoints").forEach(x -> endpoints.add(x.asText()));
    Set<Operation> classes = EnumSet.noneOf(Operation.class);
    for (JsonNode c : g.path("endpoint_class")) {
      Operation op = Operation.byScope(c.asText());
      if (op == null) {
        problems.add(
            at
                + ".database_specific.gatehouse.endpoint_class: "
                + c
                + " (expected: a Gatehouse scope such as models.manage)");
      } else {
        classes.add(op);
      }
    }
    Severity severity = null;
    if (g.has("severity")) {
      severity = Severity.parse(g.path("severity").asText(""));
      if (severity == null) {
        problems.add(
            at
                + ".database_specific.gatehouse.severity: "
                + g.get("severity")
                + " (expected: info, low, medium, high or critical)");
      }
    }
    if (cvss != null) {
      severity = Cvss31.rating(Cvss31.baseScore(cvss));
    } else if (severity == null) {
      // GHSA writes its rating at the top level's database_specific.
      String ghsa = e.path("database_specific").path("severity").asText("");
      severity = ghsa.equalsIgnoreCase("moderate") ? Severity.MEDIUM : Severity.parse(ghsa);
      if (severity == null) {
        severity = Severity.MEDIUM;
      }
    }
    String confidence = g.path("confidence").asText(strict ? "" : "imported");
    if (!CONFIDENCE.contains(confidence)) {
      problems.add(
          at
              + ".database_specific.gatehouse.confidence: \""
              + confidence
              + "\" (expected: one of confirmed, reported, secondary, imported)");
    }
    String rule =
        g.path("confidence_rule")
            .asText(
                "imported from "
                    + origin
                    + " with gatehouse advisories update; its endpoints and reachability are not known, so the whole API is assumed");
    List<String> sources = new ArrayList<>();
    g.path("sources_checked").forEach(x -> sources.add(x.asText()));
    if (strict) {
      for (String f : List.of("endpoints", "sources_checked")) {
        if (!g.path(f).isArray() || g.path(f).isEmpty()) {
          problems.add(at + ".database_specific.gatehouse." + f + " (expected: a non-empty array)");
        }
      }
      for (String f : List.of("api_reachable", "unauthenticated")) {
        if (!g.path(f).isBoolean()) {
          problems.add(at + ".database_specific.gatehouse." + f + " (expected: true or false)");
        }
      }
      if (!g.path("confidence_rule").isTextual()) {
        problems.add(at + ".database_specific.gatehouse.confidence_rule (expected: a string)");
      }
      if (modified == null && problems.size() == before) {
        problems.add(where + ".modified (expected: an RFC 3339 time)");
      }
    }
    String policy = g.path("policy").asText("");
    if (!policy.isEmpty() && !policy.equals("auth")) {
      problems.add(
          at
              + ".database_specific.gatehouse.policy: \""
              + policy
              + "\" (expected: auth, or absent)");
    }
    if (problems.size() > before) {
      return null;
    }
    List<String> aliases = new ArrayList<>();
    e.path("aliases").forEach(x -> aliases.add(x.asText()));
    return new Advisory(
        id,
        aliases,
        product,
        e.path("summary").asText(id),
        e.path("details").asText(""),
        modified == null ? Instant.EPOCH : modified,
        severity,
        cvss,
        ranges,
        endpoints.isEmpty() ? List.of("*") : endpoints,
        classes,
        g.path("api_reachable").asBoolean(true),
        g.path("unauthenticated").asBoolean(true),
        policy,
        confidence,
        rule,
        sources.isEmpty() ? links : sources,
        g.path("mitigation").asText(""),
        origin);
  }

  private static List<Advisory.Range> ranges(
      JsonNode affected, String product, String at, List<String> problems) {
    List<Advisory.Range> out = new ArrayList<>();
    JsonNode ranges = affected.path("ranges");
    if (affected.has("ranges") && !ranges.isArray()) {
      problems.add(at + ".ranges (expected: an array)");
      return out;
    }
    for (int i = 0; i < ranges.size(); i++) {
      JsonNode r = ranges.get(i);
      String rat = at + ".ranges[" + i + "]";
      String type = r.path("type").asText("");
      if (!Set.of("SEMVER", "ECOSYSTEM", "GIT").contains(type)) {
        problems.add(rat + ".type: " + r.path("type") + " (expected: SEMVER, ECOSYSTEM or GIT)");
        continue;
      }
      if (type.equals("GIT") && !r.path("repo").isTextual()) {
        problems.add(rat + ".repo (expected: the repository URL of a GIT range)");
      }
      JsonNode events = r.path("events");
      if (!events.isArray() || events.isEmpty()) {
        problems.add(rat + ".events (expected: a non-empty array)");
        continue;
      }
      Version.Scheme scheme = scheme(product, type);
      String translation = "";
      JsonNode ds = r.path("database_specific");
      Map<String, String> builds = new java.util.HashMap<>();
      if (type.equals("GIT") && product.equals("llama.cpp") && ds.has("first_build")) {
        // A fix named by commit, translated to the first build tag that contains it (recorded in
        // the data).
        scheme = Version.Scheme.LLAMA_BUILD;
        builds.put("fixed", ds.path("first_build").asText());
        builds.put("introduced", ds.path("introduced_build").asText(""));
        translation = ds.path("translation").asText("");
      }
      List<Advisory.Event> list = new ArrayList<>();
      boolean introduced = false;
      for (int k = 0; k < events.size(); k++) {
        JsonNode ev = events.get(k);
        List<String> kinds = new ArrayList<>();
        ev.fieldNames().forEachRemaining(kinds::add);
        if (kinds.size() != 1
            || !EVENT_KINDS.contains(kinds.get(0))
            || !ev.get(kinds.get(0)).isTextual()) {
          problems.add(
              rat
                  + ".events["
                  + k
                  + "]: "
                  + ev
                  + " (expected: exactly one of introduced, fixed, last_affected, limit, as a string)");
          continue;
        }
        String kind = kinds.get(0);
        String text = ev.get(kind).asText();
        introduced |= kind.equals("introduced");
        if (type.equals("GIT") && !builds.isEmpty()) {
          String b = builds.get(kind);
          text = b == null || b.isEmpty() ? (kind.equals("introduced") ? "0" : null) : b;
          if (text == null) {
            continue;
          }
        }
        if (scheme == null) {
          list.add(new Advisory.Event(kind, null)); // untranslated commits: kept only to say so
          continue;
        }
        if (kind.equals("introduced") && text.equals("0")) {
          list.add(new Advisory.Event(kind, null));
          continue;
        }
        Version v = Version.parse(scheme, text);
        if (v == null) {
          problems.add(
              rat
                  + ".events["
                  + k
                  + "]."
                  + kind
                  + ": \""
                  + text
                  + "\" (expected: a "
                  + scheme
                  + " version"
                  + (scheme == Version.Scheme.LLAMA_BUILD ? " such as b4500" : "")
                  + ")");
          continue;
        }
        list.add(new Advisory.Event(kind, v));
      }
      if (!introduced) {
        problems.add(rat + ".events (expected: at least one introduced event)");
      }
      if (scheme != null) {
        list.sort(
            Comparator.comparing(
                Advisory.Event::version, Comparator.nullsFirst(Comparator.naturalOrder())));
      }
      out.add(new Advisory.Range(scheme, list, translation));
    }
    Version.Scheme listed = scheme(product, "ECOSYSTEM");
    if (ranges.isEmpty()
        && affected.path("versions").isArray()
        && !affected.path("versions").isEmpty()
        && listed != null) {
      // Only an enumeration of affected versions: each is a range of its own.
      for (JsonNode x : affected.path("versions")) {
        Version v = Version.parse(listed, x.asText());
        if (v != null) {
          out.add(
              new Advisory.Range(
                  listed,
                  List.of(
                      new Advisory.Event("introduced", v), new Advisory.Event("last_affected", v)),
                  ""));
        }
      }
      if (out.isEmpty()) {
        problems.add(at + ".versions (expected: versions in the " + listed + " scheme)");
      }
    }
    return out;
  }

  private static @Nullable Instant time(JsonNode n, String where, List<String> problems) {
    if (!n.isTextual()) {
      problems.add(where + " (expected: an RFC 3339 time such as 2026-12-02T00:00:00Z)");
      return null;
    }
    try {
      return OffsetDateTime.parse(n.asText()).toInstant();
    } catch (DateTimeParseException x) {
      problems.add(where + ": " + n + " (expected: an RFC 3339 time such as 2026-12-02T00:00:00Z)");
      return null;
    }
  }

  private static void strings(JsonNode e, String field, String where, List<String> problems) {
    if (!e.has(field)) {
      return;
    }
    JsonNode n = e.get(field);
    Set<String> seen = new LinkedHashSet<>();
    if (!n.isArray()) {
      problems.add(where + "." + field + " (expected: an array of strings)");
      return;
    }
    for (JsonNode x : n) {
      if (!x.isTextual() || !seen.add(x.asText())) {
        problems.add(where + "." + field + " (expected: an array of distinct strings)");
        return;
      }
    }
  }
}
