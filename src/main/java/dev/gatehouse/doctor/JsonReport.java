package dev.gatehouse.doctor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The JSON form of a {@link Report}, one object for scripts: the same content as the text, with
 * severities as lower-case words and the exit status included. Field names are part of the
 * interface; new fields may be added, existing ones keep their meaning.
 */
public final class JsonReport {

  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonReport() {}

  public static String render(Report r) {
    ObjectNode root = JSON.createObjectNode();
    root.put("tool", "gatehouse");
    root.put("version", r.toolVersion());
    root.put("command", r.command());
    root.put("generated_at", r.generatedAt().toString());
    root.put("fail_on", r.failOn().label());
    root.put("exit_status", r.exitStatus());
    ObjectNode summary = root.putObject("summary");
    for (Map.Entry<Severity, Integer> e : r.counts().entrySet()) {
      summary.put(e.getKey().label(), e.getValue());
    }
    summary.put("failing", r.failing());
    ArrayNode checked = root.putArray("checked");
    for (Subject s : r.checked()) {
      ObjectNode o = checked.addObject();
      o.put("kind", s.kind());
      o.put("name", s.name());
      ObjectNode facts = o.putObject("facts");
      s.facts().forEach(f -> facts.put(f.label(), f.value()));
    }
    ArrayNode notes = root.putArray("notes");
    r.notes().forEach(notes::add);
    ArrayNode errors = root.putArray("errors");
    r.errors().forEach(errors::add);
    ArrayNode findings = root.putArray("findings");
    for (Finding f : r.findings()) {
      ObjectNode o = findings.addObject();
      o.put("id", f.id());
      o.put("severity", f.severity().label());
      o.put("subject", f.subject());
      o.put("title", f.title());
      ArrayNode ev = o.putArray("evidence");
      f.evidence().forEach(ev::add);
      o.put("fix", f.fix());
      if (f.location() != null) {
        o.put("location", f.location());
      }
    }
    return pretty(root);
  }

  /**
   * The findings of a report {@link #render} wrote, as they were: what {@code serve} reads back
   * from the child JVM its periodic posture check runs in.
   *
   * @throws IllegalArgumentException if {@code json} is not such a report
   */
  public static List<Finding> findings(byte[] json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
    JsonNode list = root == null ? null : root.get("findings");
    if (list == null || !list.isArray()) {
      throw new IllegalArgumentException("no \"findings\" array");
    }
    List<Finding> out = new ArrayList<>();
    for (JsonNode o : list) {
      Severity severity = Severity.parse(text(o, "severity"));
      if (severity == null) {
        throw new IllegalArgumentException("a finding's severity is " + o.get("severity"));
      }
      List<String> evidence = new ArrayList<>();
      JsonNode ev = o.get("evidence");
      if (ev != null && ev.isArray()) {
        ev.forEach(e -> evidence.add(e.asText()));
      }
      JsonNode location = o.get("location");
      out.add(
          new Finding(
              text(o, "id"),
              severity,
              text(o, "subject"),
              text(o, "title"),
              evidence,
              text(o, "fix"),
              location == null || !location.isTextual() ? null : location.asText()));
    }
    return out;
  }

  private static String text(JsonNode o, String field) {
    JsonNode v = o.get(field);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException("a finding's \"" + field + "\" is " + v);
    }
    return v.asText();
  }

  /** Two-space indentation and {@code \n} line ends on every platform, so golden files compare. */
  static String pretty(Object tree) {
    DefaultPrettyPrinter printer =
        new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n"));
    ObjectWriter w = JSON.writer(printer);
    try {
      return w.writeValueAsString(tree) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e); // a tree of plain nodes always serialises
    }
  }
}
