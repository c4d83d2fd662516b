package dev.gatehouse.doctor;

import dev.gatehouse.authorize.Operation;
import dev.gatehouse.authorize.Route;
import dev.gatehouse.authorize.RouteTable;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * One known vulnerability of a model server product, as listed in {@code advisories.json}.
 *
 * @param id the CVE or other advisory id
 * @param product {@code ollama}, {@code llama.cpp}, {@code vllm}, {@code localai} or {@code lmstudio}
 * @param fixed the first release that is not affected, or null when none is known
 * @param affectedFrom the first affected release, or null for "every release before the fix"
 * @param affectedThrough the last affected release, when no fixed release is recorded
 * @param endpoints the paths involved ({@code *} for the whole API)
 * @param severity the published severity
 * @param summary one line saying what an attacker can do
 * @param confidence {@code confirmed} (read in a primary source) or {@code secondary}
 */
public record Advisory(
    String id,
    String product,
    Version fixed,
    Version affectedFrom,
    Version affectedThrough,
    List<String> endpoints,
    Severity severity,
    String summary,
    String confidence) {

  public Advisory {
    endpoints = List.copyOf(endpoints);
  }

  /** True when no release is known to be unaffected: every version is affected. */
  public boolean affectsEveryRelease() {
    return fixed == null && affectedThrough == null && affectedFrom == null;
  }

  /**
   * True when this version is affected. A null version (not readable) is affected only by
   * advisories that affect every release.
   */
  public boolean affects(Version v) {
    if (v == null) {
      return affectsEveryRelease();
    }
    if (affectedFrom != null && v.compareTo(affectedFrom) < 0) {
      return false;
    }
    if (fixed != null) {
      return v.compareTo(fixed) < 0;
    }
    if (affectedThrough != null) {
      return v.compareTo(affectedThrough) <= 0;
    }
    return true;
  }

  /** The affected range in words, for evidence lines. */
  public String range() {
    String from = affectedFrom == null ? "" : "from " + affectedFrom + ", ";
    if (fixed != null) {
      return from + "fixed in " + fixed;
    }
    if (affectedThrough != null) {
      return from + "affects releases through " + affectedThrough + "; no fixed release recorded";
    }
    return from + "no fixed release recorded";
  }

  /**
   * The endpoint classes (Gatehouse scopes) this advisory is reached through, from the route table
   * the gateway enforces: {@code /api/blobs} is {@code models.manage}, {@code *} is all of them.
   */
  public Set<Operation> operations() {
    Set<Operation> ops = EnumSet.noneOf(Operation.class);
    List<Route> routes = RouteTable.standard().routes();
    for (String e : endpoints) {
      if (e.equals("*")) {
        return EnumSet.allOf(Operation.class);
      }
      for (Route r : routes) {
        boolean exact = r.path().equals(e) || (r.param() && r.path().equals(e + "/"));
        boolean under = !e.equals("/") && r.path().startsWith(e + "/");
        if (exact || under) {
          ops.add(r.operation());
        }
      }
    }
    return ops;
  }
}
