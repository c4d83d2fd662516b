package dev.gatehouse.doctor;

import dev.gatehouse.exchange.Operation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The judgement of the advisories that affect one server, as findings with the severity this
 * server's situation gives them, each saying what to do. An advisory keeps its published severity
 * only when an attacker on another machine can reach the endpoints it needs without credentials;
 * otherwise it is lowered to medium (local processes can still exploit it), and to low when
 * Gatehouse is in front and either no fixed release exists or Gatehouse's current policy already
 * refuses the endpoints it needs. An advisory that is not reachable over the HTTP API (rpc-server,
 * model files, updaters) is informational. Severity drives exit status, so this is what keeps a
 * patched-as-far-as-possible setup from failing CI forever.
 */
public final class AdvisoryCheck {

  /**
   * Where a server stands.
   *
   * @param reachableFromOthers other machines can open a connection to it
   * @param open the endpoint classes that answered without credentials
   * @param behindGatehouse Gatehouse is in front of it
   * @param why a few words saying why it is not reachable, for the evidence of lowered findings
   * @param granted the scopes some active Gatehouse key holds, or null when not known
   */
  public record Exposure(
      boolean reachableFromOthers,
      Set<Operation> open,
      boolean behindGatehouse,
      String why,
      @Nullable Set<Operation> granted) {
    public Exposure {
      open = Set.copyOf(open);
      granted = granted == null ? null : Set.copyOf(granted);
    }

    public Exposure(
        boolean reachableFromOthers, Set<Operation> open, boolean behindGatehouse, String why) {
      this(reachableFromOthers, open, behindGatehouse, why, null);
    }
  }

  private AdvisoryCheck() {}

  public static List<Finding> findings(
      Advisories db,
      String product,
      @Nullable Version version,
      Exposure exposure,
      String subject,
      @Nullable String location) {
    List<Finding> out = new ArrayList<>();
    for (Advisory a : db.forProduct(product)) {
      if (a.judge(version) != Advisory.Verdict.AFFECTED) {
        continue;
      }
      Set<Operation> via = a.operations();
      boolean endpointsOpen = via.isEmpty() || !Collections.disjoint(via, exposure.open());
      Severity severity = a.severity();
      List<String> evidence = new ArrayList<>();
      String scheme = version == null ? a.range() : a.range(version.scheme());
      evidence.add(
          product
              + " "
              + (version == null ? "(version unknown)" : version)
              + " is affected: "
              + (scheme.isEmpty() ? a.range() : scheme));
      evidence.add(
          a.informational()
              ? "needs a way in that is not the HTTP API: "
                  + a.endpoints().stream()
                      .map(e -> e.replaceAll("[()]", ""))
                      .collect(Collectors.joining(", "))
              : "reached through "
                  + String.join(", ", a.endpoints())
                  + (via.isEmpty()
                      ? ""
                      : " ("
                          + via.stream().map(o -> o.scope).collect(Collectors.joining(", "))
                          + ")"));
      // Gatehouse's policy protects only a server that cannot be reached around it.
      String blocked =
          exposure.behindGatehouse() && !exposure.reachableFromOthers()
              ? blockedBy(a, exposure.granted())
              : null;
      if (a.informational()) {
        severity = Severity.INFO;
        evidence.add(
            "informational: published severity "
                + a.severity().label()
                + ", but not reachable over the HTTP API");
      } else if (blocked != null) {
        severity = a.severity().atMost(Severity.LOW);
        evidence.add(
            "Gatehouse's current policy already blocks it: "
                + blocked
                + (severity != a.severity()
                    ? "; published severity "
                        + a.severity().label()
                        + ", lowered to "
                        + severity.label()
                    : ""));
      } else if (!(exposure.reachableFromOthers() && endpointsOpen)) {
        Severity cap =
            exposure.behindGatehouse()
                    && a.fixedIn(version == null ? null : version.scheme()) == null
                ? Severity.LOW
                : Severity.MEDIUM;
        severity = a.severity().atMost(cap);
        if (severity != a.severity()) {
          String why =
              !exposure.reachableFromOthers()
                  ? exposure.why()
                  : "the endpoints it needs demand credentials";
          evidence.add(
              "published severity "
                  + a.severity().label()
                  + ", lowered to "
                  + severity.label()
                  + ": "
                  + why);
        }
      }
      if (a.cvss() != null) {
        evidence.add("CVSS " + Cvss31.format(Cvss31.baseScore(a.cvss())) + " (" + a.cvss() + ")");
      }
      if (!a.confidence().equals("confirmed")) {
        evidence.add("confidence: " + a.confidence() + " (" + a.confidenceRule() + ")");
      }
      out.add(
          new Finding(
              Rule.ADVISORY_PREFIX + a.id(),
              severity,
              subject,
              a.id() + ": " + a.summary(),
              evidence,
              fix(a, product, version, blocked),
              location));
    }
    return out;
  }

  /**
   * Why Gatehouse, in front of the server, already refuses what this advisory needs; null when it
   * forwards it. Three reasons: Gatehouse's own key check stops an authentication bypass; none of
   * the paths is in the route table (unknown paths are refused); or no active key holds a scope the
   * endpoints need.
   */
  static @Nullable String blockedBy(Advisory a, @Nullable Set<Operation> granted) {
    if (a.policy().equals("auth")) {
      return "Gatehouse checks its own key on every request before anything reaches the server";
    }
    if (a.endpoints().contains("*") || a.informational()) {
      return null;
    }
    List<String> paths = a.paths();
    if (!paths.isEmpty() && paths.stream().allMatch(p -> Advisory.matching(p).isEmpty())) {
      return "its route table has no "
          + String.join(", ", paths)
          + ", and Gatehouse refuses paths it does not know";
    }
    Set<Operation> via = a.operations();
    if (granted != null && !via.isEmpty() && Collections.disjoint(via, granted)) {
      return "no active key holds "
          + via.stream().map(o -> o.scope).sorted().collect(Collectors.joining(" or "))
          + ", so Gatehouse refuses every request to these endpoints";
    }
    return null;
  }

  /**
   * The exact step: the upgrade when a fix exists (in the running version's scheme), else the
   * mitigation.
   */
  static String fix(
      Advisory a, String product, @Nullable Version version, @Nullable String blocked) {
    Version.Scheme scheme = version == null ? null : version.scheme();
    Version fixed = scheme == null ? null : a.fixedIn(scheme);
    if (fixed == null && scheme == null) {
      fixed =
          a.ranges().stream()
              .map(Advisory.Range::fixed)
              .filter(f -> f != null)
              .findFirst()
              .orElse(null);
    }
    StringBuilder b = new StringBuilder();
    if (fixed != null) {
      b.append("Upgrade ")
          .append(product)
          .append(" to ")
          .append(upgradeTarget(fixed))
          .append(" or later, then run gatehouse doctor again.");
      String translation =
          a.ranges().stream()
              .map(Advisory.Range::translation)
              .filter(t -> !t.isEmpty())
              .findFirst()
              .orElse("");
      if (!translation.isEmpty()) {
        b.append(" (").append(translation).append(")");
      }
    } else {
      b.append("No fixed release is recorded.");
    }
    if (!a.mitigation().isEmpty()) {
      b.append(" ").append(a.mitigation());
    }
    if (blocked != null) {
      b.append(
          " Until then Gatehouse's policy keeps it out: do not grant the scopes or routes it needs.");
    } else if (fixed == null && !a.informational()) {
      String endpoints = String.join(", ", a.endpoints()).replace("*", "the whole API");
      b.append(" Keep ")
          .append(endpoints)
          .append(
              " away from untrusted clients: bind the server to 127.0.0.1, put Gatehouse in front of it,"
                  + " and grant the scopes that reach these endpoints only to keys that need them.");
    }
    return b.toString();
  }

  private static String upgradeTarget(Version fixed) {
    return switch (fixed.scheme()) {
      case LLAMA_BUILD -> "build " + fixed;
      default -> fixed.toString();
    };
  }
}
