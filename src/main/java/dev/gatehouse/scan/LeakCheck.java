package dev.gatehouse.scan;

import dev.gatehouse.doctor.Finding;
import dev.gatehouse.doctor.HttpProbe.Response;
import dev.gatehouse.doctor.Rule;
import dev.gatehouse.doctor.Session;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The search of every response a scan received for what tells a stranger which software runs there,
 * and which version: the Ollama banner, {@code Server} and {@code X-Powered-By} headers, version
 * endpoints that answer without credentials, version headers, and error bodies whose shape belongs
 * to one product. Scanners in the wild key on exactly these (probe-signatures.md). Gatehouse's own
 * refusal (the same 401 everywhere) is not a leak: it says nothing about what is behind.
 */
public final class LeakCheck {

  /** Error bodies that name their software, and what they name. */
  private static final Map<String, String> QUIRKS =
      Map.of(
          "404 page not found", "Go's default 404 page (Ollama and other Go servers)",
          "{\"detail\":\"Not Found\"}", "FastAPI's 404 (vLLM and other Python servers)",
          "\"type\":\"not_found_error\"", "llama.cpp's 404",
          "Unexpected endpoint or method", "LM Studio's answer to unknown paths",
          "{\"message\":\"Not Found\"}", "Echo's 404 (LocalAI)");

  private LeakCheck() {}

  public static List<Finding> findings(Session session, String subject, String location) {
    Set<String> banner = new LinkedHashSet<>();
    Set<String> server = new LinkedHashSet<>();
    Set<String> version = new LinkedHashSet<>();
    Set<String> quirks = new LinkedHashSet<>();
    for (Session.Exchange e : session.exchanges()) {
      Response r = e.response();
      if (r == null) {
        continue;
      }
      String line = e.request().line();
      if (r.body().contains("Ollama is running")) {
        banner.add(line + " -> " + r.status() + " \"Ollama is running\"");
      }
      for (String h : List.of("server", "x-powered-by")) {
        String v = r.header(h);
        if (v != null && !v.isBlank()) {
          server.add(h + ": " + v + " (on " + line + ")");
        }
      }
      r.headers()
          .forEach(
              (name, value) -> {
                if (name.contains("version")
                    && !name.startsWith("anthropic")
                    && !name.startsWith("openai")) {
                  version.add(line + " -> header " + name + ": " + value);
                }
              });
      if (r.status() / 100 == 2
          && (e.request().path().endsWith("/api/version")
              || e.request().path().endsWith("/version"))
          && r.body().contains("\"version\"")) {
        version.add(line + " -> " + r.status() + " " + abbreviate(r.body()));
      }
      if (r.status() / 100 == 2 && r.body().contains("\"build_info\"")) {
        version.add(line + " -> " + r.status() + " with build_info");
      }
      if (r.status() != 401 && r.status() != 403) {
        QUIRKS.forEach(
            (pattern, meaning) -> {
              if (r.body().contains(pattern)) {
                quirks.add(
                    line + " -> " + r.status() + " " + abbreviate(r.body()) + ": " + meaning);
              }
            });
      }
    }
    List<Finding> out = new ArrayList<>();
    if (!banner.isEmpty()) {
      out.add(
          Finding.of(Rule.LEAK_BANNER, Rule.LEAK_BANNER.usual(), subject)
              .withEvidence(List.copyOf(banner))
              .withFix(
                  "Put Gatehouse in front: its GET / needs a key like every other path, so the banner never reaches a stranger.")
              .withLocation(location));
    }
    if (!server.isEmpty()) {
      out.add(
          Finding.of(Rule.LEAK_SERVER_HEADER, Rule.LEAK_SERVER_HEADER.usual(), subject)
              .withEvidence(List.copyOf(server))
              .withFix(
                  "Put Gatehouse in front (it drops the upstream's Server header), or remove the header in the proxy that serves this URL"
                      + " (nginx: server_tokens off and proxy_hide_header Server; Caddy: header -Server).")
              .withLocation(location));
    }
    if (!version.isEmpty()) {
      out.add(
          Finding.of(Rule.LEAK_VERSION, Rule.LEAK_VERSION.usual(), subject)
              .withEvidence(List.copyOf(version))
              .withFix(
                  "Require credentials on the version endpoints too: put Gatehouse in front (it answers /api/version only with a key"
                      + " that holds models.read) and drop version headers at the proxy.")
              .withLocation(location));
    }
    if (!quirks.isEmpty()) {
      out.add(
          Finding.of(Rule.LEAK_ERROR_QUIRK, Rule.LEAK_ERROR_QUIRK.usual(), subject)
              .withEvidence(List.copyOf(quirks))
              .withFix(
                  "Put Gatehouse in front: without a key every path, existing or not, gets the same 401.")
              .withLocation(location));
    }
    return out;
  }

  /**
   * True when some response showed a rate limit: 429, or a RateLimit header (IETF draft or X-
   * form).
   */
  public static List<String> rateLimitEvidence(Session session) {
    List<String> out = new ArrayList<>();
    for (Session.Exchange e : session.exchanges()) {
      Response r = e.response();
      if (r == null) {
        continue;
      }
      if (r.status() == 429) {
        out.add(
            e.request().line()
                + " -> 429"
                + (r.header("retry-after") == null
                    ? ""
                    : ", Retry-After: " + r.header("retry-after")));
      }
      for (String h :
          List.of(
              "ratelimit",
              "ratelimit-limit",
              "ratelimit-policy",
              "x-ratelimit-limit",
              "x-ratelimit-remaining")) {
        if (r.header(h) != null) {
          out.add(e.request().line() + " -> " + h + ": " + r.header(h));
        }
      }
    }
    return out;
  }

  private static String abbreviate(String body) {
    String b = body.strip().replace('\n', ' ');
    return b.length() > 80 ? b.substring(0, 77) + "..." : b;
  }
}
