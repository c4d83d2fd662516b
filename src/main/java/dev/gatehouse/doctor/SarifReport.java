package dev.gatehouse.doctor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The SARIF 2.1.0 form of a {@link Report}, the format code-scanning dashboards import. Each
 * distinct finding id becomes a rule (with {@code security-severity} for GitHub), each finding a
 * result whose level follows its severity: critical and high are {@code error}, medium {@code
 * warning}, low and info {@code note}. Findings about a file point at it; findings about a server
 * or URL carry it as a logical location.
 */
public final class SarifReport {

  static final String SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private SarifReport() {}

  public static String render(Report r) {
    ObjectNode root = JSON.createObjectNode();
    root.put("$schema", SCHEMA);
    root.put("version", "2.1.0");
    ObjectNode run = root.putArray("runs").addObject();
    ObjectNode driver = run.putObject("tool").putObject("driver");
    driver.put("name", "gatehouse");
    driver.put("version", r.toolVersion());
    ArrayNode rules = driver.putArray("rules");
    Map<String, Integer> ruleIndex = new LinkedHashMap<>();
    for (Finding f : r.findings()) {
      if (ruleIndex.containsKey(f.id())) {
        continue;
      }
      ruleIndex.put(f.id(), ruleIndex.size());
      rules.add(rule(f));
    }
    ObjectNode invocation = run.putArray("invocations").addObject();
    invocation.put("executionSuccessful", r.errors().isEmpty());
    invocation.put("endTimeUtc", r.generatedAt().toString());
    if (!r.errors().isEmpty()) {
      ArrayNode notes = invocation.putArray("toolExecutionNotifications");
      r.errors()
          .forEach(
              e -> notes.addObject().put("level", "error").putObject("message").put("text", e));
    }
    ObjectNode props = run.putObject("properties");
    props.put("command", "gatehouse " + r.command());
    props.put("failOn", r.failOn().label());
    props.put("exitStatus", r.exitStatus());
    ArrayNode results = run.putArray("results");
    for (Finding f : r.findings()) {
      ObjectNode o = results.addObject();
      o.put("ruleId", f.id());
      o.put("ruleIndex", ruleIndex.get(f.id()));
      o.put("level", f.severity().sarifLevel);
      String text =
          f.subject() + ": " + f.title() + "." + (f.fix().isEmpty() ? "" : " Fix: " + f.fix());
      o.putObject("message").put("text", text);
      ObjectNode location = o.putArray("locations").addObject();
      if (f.location() != null && f.location().startsWith("/")) {
        location
            .putObject("physicalLocation")
            .putObject("artifactLocation")
            .put("uri", Path.of(f.location()).toUri().toString());
      } else {
        ObjectNode logical = location.putArray("logicalLocations").addObject();
        logical.put("name", f.location() != null ? f.location() : f.subject());
        logical.put("kind", "resource");
      }
      ObjectNode p = o.putObject("properties");
      p.put("severity", f.severity().label());
      p.put("subject", f.subject());
      ArrayNode ev = p.putArray("evidence");
      f.evidence().forEach(ev::add);
      p.put("fix", f.fix());
    }
    return JsonReport.pretty(root);
  }

  private static ObjectNode rule(Finding f) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", f.id());
    o.put("name", pascal(f.id()));
    Rule known = Rule.byId(f.id());
    String description = known != null ? known.title() : f.title();
    o.putObject("shortDescription").put("text", description);
    o.putObject("help")
        .put("text", "See docs/doctor.md, " + f.id() + ", for what this means and how to fix it.");
    o.putObject("defaultConfiguration")
        .put("level", (known != null ? known.usual() : f.severity()).sarifLevel);
    ObjectNode props = o.putObject("properties");
    props.put("security-severity", (known != null ? known.usual() : f.severity()).securitySeverity);
    props.putArray("tags").add("security");
    return o;
  }

  /**
   * {@code GH-EXPOSED-WILDCARD} becomes {@code ExposedWildcard}: SARIF rule names are identifiers.
   */
  static String pascal(String id) {
    StringBuilder b = new StringBuilder();
    String rest = id.startsWith("GH-") ? id.substring(3) : id;
    for (String part : rest.split("[^A-Za-z0-9]+")) {
      if (!part.isEmpty()) {
        b.append(part.substring(0, 1).toUpperCase(Locale.ROOT))
            .append(part.substring(1).toLowerCase(Locale.ROOT));
      }
    }
    return b.toString();
  }
}
