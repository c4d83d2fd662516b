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
    if (!ascii(path)) {
      return credentialPathFolded(path);
    }
    // Every request is checked, so an ASCII path (all of them, in practice) is compared in place,
    // ignoring case, rather than lowered and split: the same answer, since for ASCII text
    // toLowerCase(ROOT) changes only A-Z, which is what regionMatches(true, ...) ignores.
    for (int i = 0; i < CREDENTIAL_SUFFIXES.size(); i++) {
      String s = CREDENTIAL_SUFFIXES.get(i);
      if (path.regionMatches(true, path.length() - s.length(), s, 0, s.length())) {
        return true;
      }
    }
    for (int i = 0; i < CREDENTIAL_DIRS.size(); i++) {
      if (containsIgnoreCase(path, CREDENTIAL_DIRS.get(i))) {
        return true;
      }
    }
    // .env, .env.local, .env.production, anywhere in the tree
    int start = 0;
    while (start <= path.length()) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      int n = end - start;
      if (n == 4 && path.regionMatches(true, start, ".env", 0, 4)
          || n >= 5 && path.regionMatches(true, start, ".env.", 0, 5)) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }

  /** The same test for a path with non-ASCII characters, whose lowering may change its length. */
  private static boolean credentialPathFolded(String path) {
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
    for (String segment : p.split("/")) {
      if (segment.equals(".env") || segment.startsWith(".env.")) {
        return true;
      }
    }
    return false;
  }

  private static boolean ascii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  private static boolean containsIgnoreCase(String s, String lowerNeedle) {
    for (int i = 0; i + lowerNeedle.length() <= s.length(); i++) {
      if (s.regionMatches(true, i, lowerNeedle, 0, lowerNeedle.length())) {
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
    // Either branch of the pattern needs "__nmap" at the start or "_probe_404" somewhere; a model
    // without them (every real one) is answered without running the pattern.
    return model != null
        && model.length() <= 256
        && (model.regionMatches(true, 0, "__nmap", 0, 6) || containsIgnoreCase(model, "_probe_404"))
        && SCANNER_MODEL.matcher(model).matches();
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
  static boolean realCredential(@Nullable String header) {
    if (header == null) {
      return false;
    }
    // As header.trim(), then the scheme word cut off and the rest trimmed, but by index: this runs
    // for every scored request, and a real key is longer than any placeholder, so it is answered
    // without copying or lowering it.
    int from = 0;
    int to = header.length();
    while (from < to && header.charAt(from) <= ' ') {
      from++;
    }
    while (to > from && header.charAt(to - 1) <= ' ') {
      to--;
    }
    int sp = header.indexOf(' ', from);
    if (sp > from
        && sp < to
        && (header.regionMatches(true, from, "bearer", 0, sp - from)
            || header.regionMatches(true, from, "basic", 0, sp - from))) {
      from = sp + 1;
      while (from < to && header.charAt(from) <= ' ') {
        from++;
      }
    }
    int length = to - from;
    if (length < 8) {
      return false;
    }
    // Only ASCII letters and the Kelvin sign lower to ASCII, one char each: a longer value never
    // lowers to a placeholder.
    return length > LONGEST_PLACEHOLDER
        || !PLACEHOLDERS.contains(header.substring(from, to).toLowerCase(Locale.ROOT));
  }

  private static final int LONGEST_PLACEHOLDER =
      PLACEHOLDERS.stream().mapToInt(String::length).max().orElse(0);

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

  private static final List<String> PROBE_PROMPT_LIST = List.copyOf(PROBE_PROMPTS);

  static boolean probePrompt(@Nullable String text) {
    if (text == null || text.length() > 80) {
      return false;
    }
    if (!ascii(text)) {
      String t = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9 _]", "").trim();
      return PROBE_PROMPTS.contains(t);
    }
    // The same normalisation, compared in place: prompts are checked per request.
    for (int i = 0; i < PROBE_PROMPT_LIST.size(); i++) {
      if (normalisesTo(text, PROBE_PROMPT_LIST.get(i))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether ASCII {@code text}, lowered, without characters other than a-z, 0-9, space and _, and
   * trimmed, is {@code prompt} (which neither starts nor ends with a space).
   */
  private static boolean normalisesTo(String text, String prompt) {
    int j = 0;
    boolean started = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        c = (char) (c + ('a' - 'A'));
      }
      if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' ' || c == '_')) {
        continue; // removed
      }
      if (!started && c == ' ') {
        continue; // leading space, trimmed
      }
      started = true;
      if (j < prompt.length()) {
        if (prompt.charAt(j++) != c) {
          return false;
        }
      } else if (c != ' ') {
        return false; // more than the prompt, beyond trailing spaces
      }
    }
    return j == prompt.length();
  }
}
