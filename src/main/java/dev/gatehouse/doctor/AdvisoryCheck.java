package dev.gatehouse.doctor;

import dev.gatehouse.authorize.Operation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The judgement of the advisories that affect one server, as findings with the severity this
 * server's situation gives them. An advisory keeps its published severity only when an attacker on another
 * machine can reach the endpoints it needs without credentials; otherwise it is lowered to medium
 * (local processes can still exploit it), and to low when Gatehouse is in front and no fixed
 * release exists (nothing more can be done than what is already in place). Severity drives exit
 * status, so this is what keeps a patched-as-far-as-possible setup from failing CI forever.
 */
public final class AdvisoryCheck {

  /**
   * Where a server stands.
   *
   * @param reachableFromOthers other machines can open a connection to it
   * @param open the endpoint classes that answered without credentials
   * @param behindGatehouse Gatehouse is in front of it
   * @param why a few words saying why it is not reachable, for the evidence of lowered findings
   */
  public record Exposure(boolean reachableFromOthers, Set<Operation> open, boolean behindGatehouse, String why) {
    public Exposure {
      open = Set.copyOf(open);
    }
  }

  private AdvisoryCheck() {}

  public static List<Finding> findings(
      Advisories db, String product, Version version, Exposure exposure, String subject, String location) {
    List<Finding> out = new ArrayList<>();
    for (Advisory a : db.affecting(product, version)) {
      Set<Operation> via = a.operations();
      boolean endpointsOpen = via.isEmpty() || !Collections.disjoint(via, exposure.open());
      Severity severity = a.severity();
      List<String> evidence = new ArrayList<>();
      evidence.add(product + " " + (version == null ? "(version unknown)" : version) + " is affected: " + a.range());
      evidence.add("reached through " + String.join(", ", a.endpoints())
          + (via.isEmpty() ? "" : " (" + via.stream().map(o -> o.scope).collect(Collectors.joining(", ")) + ")"));
      if (!(exposure.reachableFromOthers() && endpointsOpen)) {
        Severity cap = exposure.behindGatehouse() && a.fixed() == null ? Severity.LOW : Severity.MEDIUM;
        severity = a.severity().atMost(cap);
        if (severity != a.severity()) {
          String why = !exposure.reachableFromOthers()
              ? exposure.why()
              : "the endpoints it needs demand credentials";
          evidence.add("published severity " + a.severity().label() + ", lowered to " + severity.label() + ": " + why);
        }
      }
      if (a.confidence().equals("secondary")) {
        evidence.add("confidence: secondary (reported only in blogs or digests; check before relying on it)");
      }
      out.add(new Finding(
          Rule.ADVISORY_PREFIX + a.id(), severity, subject, a.id() + ": " + a.summary(), evidence, fix(a, product), location));
    }
    return out;
  }

  private static String fix(Advisory a, String product) {
    if (a.fixed() != null) {
      return "Upgrade " + product + " to " + a.fixed() + " or later, then run gatehouse doctor again.";
    }
    String endpoints = String.join(", ", a.endpoints()).replace("*", "the whole API");
    return "No fixed release is recorded. Keep " + endpoints + " away from untrusted clients: bind the server to"
        + " 127.0.0.1, put Gatehouse in front of it, and grant the scopes that reach these endpoints only to"
        + " keys that need them.";
  }
}
