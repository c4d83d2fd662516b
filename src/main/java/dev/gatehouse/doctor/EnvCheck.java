package dev.gatehouse.doctor;

import java.util.ArrayList;
import java.util.List;

/**
 * The checks of the Ollama settings found in the environment, running processes and systemd units:
 * an {@code OLLAMA_HOST} that binds beyond loopback, an {@code OLLAMA_ORIGINS} that lets every web
 * page in, and where {@code OLLAMA_MODELS} puts the model store. A setting is reported once, at the
 * place to fix it: a process that inherited a unit's value is not reported again.
 */
public final class EnvCheck {

  private EnvCheck() {}

  public static List<Finding> findings(List<OllamaEnv.Source> sources, List<String> notes) {
    List<Finding> out = new ArrayList<>();
    for (OllamaEnv.Source s : sources) {
      String host = s.vars().get("OLLAMA_HOST");
      if (host != null && !inheritedFromUnit(s, sources, "OLLAMA_HOST")) {
        OllamaEnv.Bind bind = OllamaEnv.parseHost(host);
        if (bind.reachableFromOthers()) {
          out.add(
              Finding.of(
                      Rule.OLLAMA_HOST_EXPOSED,
                      severity(s),
                      "OLLAMA_HOST=" + host + " in " + s.origin())
                  .withEvidence(
                      "OLLAMA_HOST="
                          + host
                          + " makes Ollama listen on "
                          + (bind.host().isEmpty()
                                  || bind.host().equals("0.0.0.0")
                                  || bind.host().equals("::")
                              ? "every interface"
                              : bind.host())
                          + ", port "
                          + bind.port(),
                      "source: " + s.origin())
                  .withFix(hostFix(s, bind.port()))
                  .withLocation(s.kind() == OllamaEnv.Kind.UNIT ? s.origin() : null));
        }
      }
      String origins = s.vars().get("OLLAMA_ORIGINS");
      if (origins != null
          && OllamaEnv.originsWildcard(origins)
          && !inheritedFromUnit(s, sources, "OLLAMA_ORIGINS")) {
        out.add(
            Finding.of(
                    Rule.CORS_WILDCARD,
                    severity(s),
                    "OLLAMA_ORIGINS=" + origins + " in " + s.origin())
                .withEvidence(
                    "OLLAMA_ORIGINS="
                        + origins
                        + ": Ollama answers cross-origin requests from every web site",
                    "a page a user opens can drive the local API through the browser, even on 127.0.0.1",
                    "source: " + s.origin())
                .withFix(
                    where(s)
                        + "remove * from OLLAMA_ORIGINS and list only the origins that need access (such as app://obsidian.md);"
                        + " then restart Ollama.")
                .withLocation(s.kind() == OllamaEnv.Kind.UNIT ? s.origin() : null));
      }
      String models = s.vars().get("OLLAMA_MODELS");
      if (models != null && !inheritedFromUnit(s, sources, "OLLAMA_MODELS")) {
        notes.add(
            "model store: OLLAMA_MODELS="
                + models
                + " in "
                + s.origin()
                + "; check it with: gatehouse models verify --dir "
                + models);
      }
    }
    return out;
  }

  /** The shell's settings matter only if Ollama is started from it, so they count for less. */
  private static Severity severity(OllamaEnv.Source s) {
    return s.kind() == OllamaEnv.Kind.SHELL ? Severity.MEDIUM : Severity.HIGH;
  }

  private static boolean inheritedFromUnit(
      OllamaEnv.Source s, List<OllamaEnv.Source> all, String var) {
    if (s.kind() != OllamaEnv.Kind.PROCESS) {
      return false;
    }
    String value = s.vars().get(var);
    return all.stream()
        .anyMatch(
            u ->
                u.kind() == OllamaEnv.Kind.UNIT
                    && java.util.Objects.requireNonNull(value).equals(u.vars().get(var)));
  }

  private static String where(OllamaEnv.Source s) {
    return switch (s.kind()) {
      case UNIT -> "In " + s.origin() + ", ";
      case PROCESS -> "Where this process is started (its service, container or shell), ";
      case SHELL -> "In this shell, if ollama serve is started from it, ";
    };
  }

  private static String hostFix(OllamaEnv.Source s, int port) {
    return switch (s.kind()) {
      case UNIT ->
          "In "
              + s.origin()
              + ", set Environment=\"OLLAMA_HOST=127.0.0.1:"
              + port
              + "\" (or delete the line; 127.0.0.1:11434"
              + " is the default), then: sudo systemctl daemon-reload && sudo systemctl restart ollama.\n"
              + Fixes.gatehouseInFront(port);
      case PROCESS ->
          "Where this process is started (its service, container or shell), set OLLAMA_HOST=127.0.0.1:"
              + port
              + " and restart it; in Docker publish the port to loopback only: -p 127.0.0.1:"
              + port
              + ":11434.\n"
              + Fixes.gatehouseInFront(port);
      case SHELL ->
          "Before running ollama serve from this shell: export OLLAMA_HOST=127.0.0.1:"
              + port
              + " (if the variable only points the ollama client at a server, this does not apply).";
    };
  }
}
