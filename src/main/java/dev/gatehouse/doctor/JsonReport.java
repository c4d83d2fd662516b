package dev.gatehouse.doctor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
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
