package dev.gatehouse.doctor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Renders {@code docs/advisories.md} from the built-in data: a coverage table, then one table per
 * server. {@code AdvisoriesDocTest} fails when the page is out of step; run it with {@code
 * -Dgatehouse.docs.write=true} to rewrite the page.
 */
public final class AdvisoriesDoc {

  /** The products in the order the page lists them, with their headings. */
  static final Map<String, String> PRODUCTS = new LinkedHashMap<>();

  static {
    PRODUCTS.put("ollama", "Ollama");
    PRODUCTS.put("llama.cpp", "llama.cpp (`llama-server`, and `rpc-server` as informational)");
    PRODUCTS.put("vllm", "vLLM (OpenAI-compatible server)");
    PRODUCTS.put("localai", "LocalAI");
    PRODUCTS.put("lmstudio", "LM Studio");
  }

  private AdvisoriesDoc() {}

  public static String render(Advisories db) {
    StringBuilder b = new StringBuilder();
    b.append("# Advisories\n\n")
        .append(
            "<!-- Generated from src/main/resources/advisories/osv.json by AdvisoriesDoc; do not edit by hand.\n")
        .append(
            "     Regenerate: ./mvnw test -Dtest=AdvisoriesDocTest -Dgatehouse.docs.write=true -->\n\n")
        .append(
            "The advisories `gatehouse doctor` and `gatehouse scan` match servers against, as shipped in this build (OSV\n")
        .append(
            "schema, `src/main/resources/advisories/osv.json`). `gatehouse advisories update --from FILE|DIR` adds newer\n")
        .append(
            "ones from an OSV export; `gatehouse advisories list` shows what is in force. How they are matched and\n")
        .append("judged is in [doctor.md](doctor.md#advisories).\n\n")
        .append("Newest entry modified ")
        .append(db.newest().toString(), 0, 10)
        .append(".\n\n")
        .append("**Confidence.** `confirmed`: ")
        .append(rule(db, "confirmed"))
        .append(". `reported`: ")
        .append(rule(db, "reported"))
        .append(". `secondary`: ")
        .append(rule(db, "secondary"))
        .append(".\n\n")
        .append(
            "**Informational** entries need a way in that is not the HTTP API (rpc-server, a model file, an updater);\n")
        .append("doctor reports them at `info`.\n\n")
        .append("## Coverage\n\n")
        .append(
            "| Server | Shipped | Reachable over the API | Informational | With a CVSS vector | Confirmed | Reported | Secondary |\n")
        .append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (String p : PRODUCTS.keySet()) {
      List<Advisory> list = db.forProduct(p);
      b.append("| ")
          .append(p)
          .append(" | ")
          .append(list.size())
          .append(" | ")
          .append(list.stream().filter(Advisory::apiReachable).count())
          .append(" | ")
          .append(list.stream().filter(Advisory::informational).count())
          .append(" | ")
          .append(list.stream().filter(a -> a.cvss() != null).count())
          .append(" | ")
          .append(count(list, "confirmed"))
          .append(" | ")
          .append(count(list, "reported"))
          .append(" | ")
          .append(count(list, "secondary"))
          .append(" |\n");
    }
    for (Map.Entry<String, String> p : PRODUCTS.entrySet()) {
      b.append("\n## ").append(p.getValue()).append("\n\n");
      b.append(
          "| Id | Severity | Affected | Endpoints | Confidence | What an attacker can do |\n|---|---|---|---|---|---|\n");
      for (Advisory a : db.forProduct(p.getKey())) {
        String sev =
            a.severity().label()
                + (a.cvss() == null
                    ? ""
                    : " (CVSS " + Cvss31.format(Cvss31.baseScore(a.cvss())) + ")");
        b.append("| ")
            .append(a.id())
            .append(a.aliases().isEmpty() ? "" : "<br>" + String.join(", ", a.aliases()))
            .append(" | ")
            .append(a.informational() ? "info (" + sev + ")" : sev)
            .append(" | ")
            .append(cell(a.range()))
            .append(" | ")
            .append(a.endpoints().stream().map(e -> "`" + e + "`").collect(Collectors.joining(" ")))
            .append(" | ")
            .append(a.confidence())
            .append(" | ")
            .append(cell(a.summary()))
            .append(" |\n");
      }
    }
    return b.toString();
  }

  private static long count(List<Advisory> list, String confidence) {
    return list.stream().filter(a -> a.confidence().equals(confidence)).count();
  }

  private static String rule(Advisories db, String confidence) {
    return db.all().stream()
        .filter(a -> a.confidence().equals(confidence))
        .map(Advisory::confidenceRule)
        .findFirst()
        .orElse("none");
  }

  private static String cell(String s) {
    return s.replace("|", "\\|");
  }
}
