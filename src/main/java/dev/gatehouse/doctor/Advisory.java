package dev.gatehouse.doctor;

import dev.gatehouse.authorize.RouteTable;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Route;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * One known vulnerability of a model server product, read from an OSV entry ({@link OsvReader}):
 * the OSV fields Gatehouse uses, and Gatehouse's own judgement from {@code
 * affected[].database_specific.gatehouse}. Immutable.
 *
 * @param id the OSV id (CVE, GHSA, GO, PYSEC or other)
 * @param aliases other ids of the same vulnerability
 * @param product {@code ollama}, {@code llama.cpp}, {@code vllm}, {@code localai} or {@code
 *     lmstudio}
 * @param summary one line saying what an attacker can do
 * @param details longer notes (disagreements between sources, conditions), or empty
 * @param modified when the entry last changed
 * @param severity the severity Gatehouse starts from: the CVSS rating when a vector is given
 * @param cvss the CVSS v3 vector, or null
 * @param ranges the affected ranges
 * @param endpoints the HTTP paths involved ({@code *} the whole API, a parenthesised word such as
 *     {@code (rpc-server)} for a way in that is not the HTTP API)
 * @param declaredClasses endpoint classes given in the data, or empty to derive them from the route
 *     table
 * @param apiReachable reachable over the server's HTTP API
 * @param unauthenticated reachable without credentials (on servers that have none of their own)
 * @param policy {@code auth} when Gatehouse's own authentication stops it, else empty
 * @param confidence {@code confirmed}, {@code reported}, {@code secondary} or {@code imported}
 * @param confidenceRule what that level means
 * @param sources the links that were checked
 * @param mitigation what to do when there is no fix (or besides upgrading), or empty
 * @param origin where the entry came from (built in, or the import)
 */
public record Advisory(
    String id,
    List<String> aliases,
    String product,
    String summary,
    String details,
    Instant modified,
    Severity severity,
    @Nullable String cvss,
    List<Range> ranges,
    List<String> endpoints,
    Set<Operation> declaredClasses,
    boolean apiReachable,
    boolean unauthenticated,
    String policy,
    String confidence,
    String confidenceRule,
    List<String> sources,
    String mitigation,
    String origin) {

  /** Whether a version is affected. */
  public enum Verdict {
    AFFECTED,
    NOT_AFFECTED,
    UNKNOWN
  }

  /** An OSV event: the version where it happens, null for {@code introduced: "0"}. */
  public record Event(String kind, @Nullable Version version) {}

  /**
   * One affected range in one scheme, or a commit range Gatehouse could not translate to builds
   * ({@code scheme} null: it cannot be judged from a version).
   *
   * @param scheme the versioning scheme of its events, or null
   * @param events introduced / fixed / last_affected, in version order
   * @param translation how a commit range was translated to builds, or empty
   */
  public record Range(Version.@Nullable Scheme scheme, List<Event> events, String translation) {
    public Range {
      events = List.copyOf(events);
    }

    boolean affects(Version v) {
      boolean affected = false;
      for (Event e : events) {
        int c = e.version() == null ? 1 : v.compareTo(e.version());
        switch (e.kind()) {
          case "introduced" -> {
            if (c >= 0) {
              affected = true;
            }
          }
          case "fixed", "limit" -> {
            if (c >= 0) {
              affected = false;
            }
          }
          default -> { // last_affected
            if (c > 0) {
              affected = false;
            }
          }
        }
      }
      return affected;
    }

    /** True for a range that only says "introduced: 0": every release. */
    boolean everything() {
      return scheme != null && events.size() == 1 && events.get(0).version() == null;
    }

    /** The first fixed version, or null. */
    @Nullable Version fixed() {
      return events.stream()
          .filter(e -> e.kind().equals("fixed") && e.version() != null)
          .map(Event::version)
          .findFirst()
          .orElse(null);
    }

    /** The range in words: {@code from 0.34.2, fixed in 0.35.0}. */
    String describe() {
      List<String> parts = new ArrayList<>();
      for (Event e : events) {
        if (e.kind().equals("introduced") && e.version() != null) {
          parts.add("from " + e.version());
        } else if (e.kind().equals("fixed")) {
          parts.add("fixed in " + e.version());
        } else if (e.kind().equals("last_affected")) {
          parts.add("affects through " + e.version() + ", no fixed release recorded");
        }
      }
      if (parts.stream().noneMatch(p -> p.startsWith("fixed") || p.startsWith("affects"))) {
        parts.add("no fixed release recorded");
      }
      return String.join(", ", parts);
    }
  }

  public Advisory {
    aliases = List.copyOf(aliases);
    ranges = List.copyOf(ranges);
    endpoints = List.copyOf(endpoints);
    declaredClasses = declaredClasses.isEmpty() ? Set.of() : Set.copyOf(declaredClasses);
    sources = List.copyOf(sources);
  }

  /**
   * True when no release is known to be unaffected: every version is affected, even an unknown one.
   */
  public boolean affectsEveryRelease() {
    return ranges.isEmpty() || ranges.stream().anyMatch(Range::everything);
  }

  /**
   * Whether this version is affected. Only ranges of the version's own scheme count: a llama.cpp
   * build is never judged by a semantic-version range, nor the other way round. A version that no
   * range can judge (unknown, or of a scheme the advisory has no range in) is {@link
   * Verdict#UNKNOWN}, unless every release is affected.
   */
  public Verdict judge(@Nullable Version v) {
    if (affectsEveryRelease()) {
      return Verdict.AFFECTED;
    }
    if (v == null) {
      return Verdict.UNKNOWN;
    }
    List<Range> same = ranges.stream().filter(r -> r.scheme() == v.scheme()).toList();
    if (same.isEmpty()) {
      return Verdict.UNKNOWN;
    }
    return same.stream().anyMatch(r -> r.affects(v)) ? Verdict.AFFECTED : Verdict.NOT_AFFECTED;
  }

  /** Convenience for tests and callers that only need yes or no. */
  public boolean affects(Version v) {
    return judge(v) == Verdict.AFFECTED;
  }

  /** The first fixed version in this scheme, or null when none is recorded. */
  public @Nullable Version fixedIn(Version.@Nullable Scheme scheme) {
    return ranges.stream()
        .filter(r -> r.scheme() == scheme)
        .map(Range::fixed)
        .filter(f -> f != null)
        .findFirst()
        .orElse(null);
  }

  /** The affected ranges in words, for evidence lines and the docs. */
  public String range() {
    if (ranges.isEmpty()) {
      return "every release; no fixed release recorded";
    }
    return ranges.stream()
        .map(r -> (r.scheme() == null ? "commits" : label(r.scheme())) + ": " + r.describe())
        .collect(Collectors.joining("; "));
  }

  /** The range in one scheme's words. */
  public String range(Version.Scheme scheme) {
    return ranges.stream()
        .filter(r -> r.scheme() == scheme)
        .map(Range::describe)
        .collect(Collectors.joining("; "));
  }

  static String label(Version.Scheme s) {
    return switch (s) {
      case SEMVER -> "versions";
      case PEP440 -> "releases";
      case LLAMA_BUILD -> "builds";
      case LMSTUDIO -> "versions";
    };
  }

  /** True for a way in that is not the HTTP API (rpc-server, model files, updaters). */
  public boolean informational() {
    return !apiReachable;
  }

  /**
   * The endpoint classes (Gatehouse scopes) this advisory is reached through: those the data
   * declares, else those the route table the gateway enforces gives its endpoints ({@code
   * /api/blobs} is {@code models.manage}, {@code *} is all of them).
   */
  public Set<Operation> operations() {
    if (!declaredClasses.isEmpty()) {
      return declaredClasses;
    }
    Set<Operation> ops = EnumSet.noneOf(Operation.class);
    for (String e : endpoints) {
      if (e.equals("*")) {
        return EnumSet.allOf(Operation.class);
      }
      for (Route r : matching(e)) {
        ops.add(r.operation());
      }
    }
    return ops;
  }

  /**
   * The routes of the gateway's table an endpoint of the data names (the path, or paths under it).
   */
  static List<Route> matching(String endpoint) {
    List<Route> out = new ArrayList<>();
    for (Route r : RouteTable.standard().routes()) {
      boolean exact = r.path().equals(endpoint) || (r.param() && r.path().equals(endpoint + "/"));
      boolean under = !endpoint.equals("/") && r.path().startsWith(endpoint + "/");
      if (exact || under) {
        out.add(r);
      }
    }
    return out;
  }

  /** The HTTP paths among the endpoints (not {@code *}, not a parenthesised way in). */
  public List<String> paths() {
    return endpoints.stream().filter(e -> e.startsWith("/")).toList();
  }
}
