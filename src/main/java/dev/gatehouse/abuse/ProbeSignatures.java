package dev.gatehouse.abuse;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What scanners hunting for open LLM servers send, from public scanner templates and reports of
 * probing campaigns (see {@code shared/reference/probe-signatures.md} and docs/abuse.md). Each
 * matcher is one signal; none of them alone says "scanner" except {@link #credentialPath}.
 * Stateless.
 */
final class ProbeSignatures {

  private ProbeSignatures() {}

  /**
   * Paths that list or fingerprint a server (Ollama, OpenAI-compatible, llama.cpp, vLLM, KoboldCpp,
   * text-generation-webui, LocalAI, Open WebUI): read without a key they say "what are you?", which
   * only a scanner asks a server it has no key for.
   */
  private static final Set<String> INVENTORY =
      Set.of(
          "/",
          "/api/tags",
          "/api/ps",
          "/api/version",
          "/api/show",
          "/v1/models",
          "/models",
          "/version",
          "/info",
          "/health",
          "/metrics",
          "/props",
          "/slots",
          "/get_model_info",
          "/api/extra/version",
          "/api/v1/model",
          "/api/v1/models",
          "/api/config",
          "/manifest.json",
          "/api/ping",
          "/anthropic/v1/models",
          "/v1/props");

  static boolean inventoryPath(String path) {
    return INVENTORY.contains(path) || path.startsWith("/v1/models/");
  }

  /**
   * Files that hold credentials. No model server serves them and no client asks for them: a request
   * for one is a credential-theft attempt, whatever else it does.
   */
  private static final List<String> CREDENTIAL_SUFFIXES =
      List.of(
          "/.aws/credentials",
          "/.aws/config",
          "/.cache/huggingface/token",
          "/.huggingface/token",
          "/openai/credentials.json",
          "/.docker/config.json",
          "/.npmrc",
          "/.netrc",
          "/.git-credentials",
          "/.git/config",
          "/.kube/config",
          "/.pgpass",
          "/.claude/settings.json",
          "/.claude.json",
          "/.config/gcloud/credentials.db",
          "/.config/gcloud/application_default_credentials.json");

  private static final List<String> CREDENTIAL_DIRS =
      List.of("/.ssh/", "/.claude/", "/.aws/", "/.git/", "/.config/gcloud/");

  static boolean credentialPath(String path) {
    String p = path.toLowerCase(Locale.ROOT);
    for (String s : CREDENTIAL_SUFFIXES) {
      if (p.endsWith(s)) {
        return true;
      }
    }
    for (String d : CREDENTIAL_DIRS) {
      if (p.contains(d)) {
        return true;
      }
    }
    // .env, .env.local, .env.production, anywhere in the tree
    for (String segment : p.split("/")) {
      if (segment.equals(".env") || segment.startsWith(".env.")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Model ids of hosted vendors (OpenAI, Anthropic, Google, Cohere) and of scanner tooling ({@code
   * __nmap_probe_404__}): a self-hosted server that answers 404 for one is being asked by something
   * that does not know what it serves.
   */
  private static final Pattern VENDOR_MODEL =
      Pattern.compile(
          "(?i)(gpt-(?!oss)|chatgpt-|o[1-9](-|$)|text-davinci|davinci|babbage|text-embedding-3|text-embedding-ada|"
              + "claude-|gemini-|command-r|grok-|__nmap).*");

  /** gpt-oss is an open-weight model that Ollama, llama.cpp and vLLM serve: not a vendor's id. */
  static boolean vendorModel(@Nullable String model) {
    return model != null && model.length() <= 256 && VENDOR_MODEL.matcher(model).matches();
  }

  /**
   * Marker models that scanner tooling names to fingerprint a server's 404 (nmap's ai-recon scripts
   * send {@code __nmap_probe_404__}). No model server ships one and no client names one.
   */
  private static final Pattern SCANNER_MODEL =
      Pattern.compile("(?i)__nmap[a-z0-9_:.-]*|[a-z0-9_.-]*_probe_404_*");

  static boolean scannerModel(@Nullable String model) {
    return model != null && model.length() <= 256 && SCANNER_MODEL.matcher(model).matches();
  }

  /**
   * Values that scanners and unconfigured clients put where a key goes: not a key anyone was given.
   * {@code password} is also the Anthropic-style probe's (see weak_credential).
   */
  private static final Set<String> PLACEHOLDERS =
      Set.of(
          "",
          "password",
          "empty",
          "none",
          "null",
          "undefined",
          "test",
          "x",
          "dummy",
          "key",
          "apikey",
          "api_key",
          "your_api_key",
          "sk-",
          "changeme");

  /**
   * Whether an Authorization or x-api-key value carries something that looks like a key someone was
   * given (a mistyped, expired or old one), rather than nothing or a placeholder.
   */
  static boolean realCredential(String header) {
    if (header == null) {
      return false;
    }
    String v = header.trim();
    int sp = v.indexOf(' ');
    if (sp > 0
        && (v.regionMatches(true, 0, "bearer", 0, sp)
            || v.regionMatches(true, 0, "basic", 0, sp))) {
      v = v.substring(sp + 1).trim();
    }
    return v.length() >= 8 && !PLACEHOLDERS.contains(v.toLowerCase(Locale.ROOT));
  }

  /** Ollama's model management routes, whose body names a model to fetch, send or build. */
  private static final Set<String> MANAGEMENT =
      Set.of("/api/pull", "/api/push", "/api/create", "/api/copy");

  static boolean managementPath(String path) {
    return MANAGEMENT.contains(path);
  }

  /**
   * One-word or stock prompts of "is inference open?" probes, compared without case or punctuation.
   */
  private static final Set<String> PROBE_PROMPTS =
      Set.of(
          "hi",
          "hello",
          "hey",
          "x",
          "test",
          "ping",
          "hello world",
          "how many states are there in the united states");

  static boolean probePrompt(@Nullable String text) {
    if (text == null || text.length() > 80) {
      return false;
    }
    String t = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9 _]", "").trim();
    return PROBE_PROMPTS.contains(t);
  }
}
