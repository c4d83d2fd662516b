package dev.gatehouse.config;

import dev.gatehouse.config.Setting.Kind;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The configuration schema: every setting Gatehouse reads, in the order the docs list them. */
public final class Settings {

  private Settings() {}

  private static Setting s(String path, Kind kind, String def, String doc) {
    return new Setting(path, kind, def, Setting.envName(path), doc);
  }

  public static final List<Setting> ALL =
      List.of(
          s("listen", Kind.HOST_PORT, "127.0.0.1:11435",
              "Address of the public listener. Loopback by default; any other address needs TLS and authentication."),
          s("upstream", Kind.URL, "http://127.0.0.1:11434",
              "The LLM server Gatehouse protects (Ollama, llama.cpp, vLLM, LM Studio, LocalAI)."),
          new Setting("data_dir", Kind.PATH, ".gatehouse", "GATEHOUSE_HOME",
              "Data directory: the SQLite database and the server secret that keys are hashed with."),
          s("server.event_loops", Kind.INTEGER, "0",
              "Event-loop threads serving requests; 0 means one per CPU core."),
          s("auth.enabled", Kind.BOOLEAN, "true",
              "Require an API key on every request except /healthz and /readyz. Can only be turned off on a loopback listener."),
          s("tls.cert", Kind.PATH, "",
              "PEM certificate for HTTPS. Empty: plain HTTP, which is allowed only on loopback."),
          s("tls.key", Kind.PATH, "", "PEM private key (PKCS#8 or PKCS#1) that goes with tls.cert."),
          s("tls.chain", Kind.PATH, "", "Optional PEM file of intermediate certificates, sent after tls.cert."),
          s("tls.redirect_listen", Kind.HOST_PORT_OR_EMPTY, "",
              "Optional plain-HTTP listener that only answers 308 redirects to HTTPS. Empty: off."),
          s("tls.hsts_max_age", Kind.DURATION, "365d",
              "max-age of the Strict-Transport-Security header sent on HTTPS responses; 0s sends none."),
          s("tls.reload_interval", Kind.DURATION, "5s",
              "How often the certificate files are checked for changes; a change is loaded without dropping connections."),
          s("policy.allowed_registries", Kind.STRING_LIST, "[]",
              "Registries (host or host:port) that models.manage requests may name in model, name, from, source or destination. Plain names use Ollama's default registry and are always allowed."),
          s("policy.allow_cloud_models", Kind.BOOLEAN, "false",
              "Allow models tagged cloud or -cloud, which Ollama runs on ollama.com under the server owner's account."),
          s("limits.max_body", Kind.SIZE, "16MiB",
              "Largest request body for JSON and multipart endpoints; larger ones get 413 before the upstream is contacted."),
          s("limits.max_blob", Kind.SIZE, "64GiB",
              "Largest upload to /api/blobs (models.manage only); streamed, never buffered."),
          s("limits.max_header_bytes", Kind.SIZE, "16KiB", "Largest total size of request headers."),
          s("limits.max_headers", Kind.INTEGER, "64", "Most request headers accepted; more get 431."),
          s("limits.max_upstream_connections", Kind.INTEGER, "4096",
              "Most open connections to the upstream per event loop; each active stream holds one."),
          s("timeouts.header_read", Kind.DURATION, "10s",
              "Time a new connection has to send its first complete request head."),
          s("timeouts.keepalive", Kind.DURATION, "75s",
              "Time an idle keep-alive connection may wait for its next request head."),
          s("timeouts.upstream_connect", Kind.DURATION, "5s", "Time to open a connection to the upstream."),
          s("timeouts.upstream_first_byte", Kind.DURATION, "300s",
              "Time for the upstream to start its response; long enough for a cold model load."),
          s("timeouts.upstream_idle", Kind.DURATION, "300s",
              "Longest silence allowed between two chunks of an upstream response. A generation that keeps streaming is never cut."),
          s("models.pinned", Kind.PATH, "",
              "A model lock file (gatehouse models verify --pin). Inference on a pinned model is refused unless the upstream lists it with the pinned digest. Empty: off."),
          s("models.pin_refresh", Kind.DURATION, "5s",
              "Oldest the upstream's model digests (from /api/tags) may be when a pinned model is used; older ones are fetched again first."),
          s("rate.key_rpm", Kind.INTEGER, "600",
              "Requests per minute per API key (token bucket); a key's own --rpm overrides it. 0 turns the limit off."),
          s("rate.key_burst", Kind.INTEGER, "60", "Requests a key may make at once before rate.key_rpm applies."),
          s("rate.ip_rpm", Kind.INTEGER, "1200", "Requests per minute per client IP, for authenticated requests. 0 turns the limit off."),
          s("rate.ip_burst", Kind.INTEGER, "120", "Requests a client IP may make at once before rate.ip_rpm applies."),
          s("rate.anonymous_ip_rpm", Kind.INTEGER, "30",
              "Requests per minute per client IP without a valid key (they get 401 until this is spent, then 429)."),
          s("rate.anonymous_ip_burst", Kind.INTEGER, "10", "Unauthenticated requests a client IP may make at once."),
          s("budget.tokens_per_minute", Kind.INTEGER, "0",
              "Prompt plus output tokens per minute per key, counted from the upstream's own usage figures; 0 means no budget."),
          s("budget.tokens_per_day", Kind.INTEGER, "0", "Prompt plus output tokens per UTC day per key; 0 means no budget."),
          s("concurrency.global", Kind.INTEGER, "256", "Requests in flight to the upstream at once, over all keys."),
          s("concurrency.per_key", Kind.INTEGER, "32", "Requests in flight at once per key; a key's own --concurrency overrides it."),
          s("concurrency.queue", Kind.INTEGER, "128",
              "Requests that may wait for a free slot; beyond that they are refused at once (429 for a key's own cap, 503 for the global one)."),
          s("concurrency.queue_timeout", Kind.DURATION, "30s", "Longest wait for a free slot before a queued request is refused."),
          s("caps.mode", Kind.STRING, "clamp",
              "What happens to a request over a token, context or choice cap: clamp (lower it to the cap) or reject (400). Image, message and prompt caps always reject."),
          s("caps.max_output_tokens", Kind.INTEGER, "4096",
              "Largest output a request may ask for (num_predict, max_tokens, max_completion_tokens, max_output_tokens); also set on requests that ask for none. -1 and -2 count as unlimited."),
          s("caps.num_ctx", Kind.INTEGER, "32768", "Largest context window (Ollama options.num_ctx) a request may ask for."),
          s("caps.n", Kind.INTEGER, "1", "Most choices (OpenAI n) a request may ask for."),
          s("caps.keep_alive_max", Kind.DURATION, "30m",
              "Longest keep_alive a request may ask for; a negative keep_alive (keep loaded forever) counts as longer than any."),
          s("caps.images", Kind.INTEGER, "4", "Most images in one request."),
          s("caps.image_bytes", Kind.SIZE, "8MiB", "Largest single image (decoded size of its base64)."),
          s("caps.messages", Kind.INTEGER, "256", "Most messages in one chat request."),
          s("caps.prompt_chars", Kind.INTEGER, "400000",
              "Most characters of text in one request (prompt, system, messages, input), about 100k tokens."),
          s("audit.hmac_key_file", Kind.PATH, "",
              "File holding the HMAC key that signs audit checkpoints, created (mode 0600) on first use. Empty: audit-hmac.key in data_dir. Keep it on other storage than the log, so that whoever can rewrite the log cannot re-sign it."),
          s("audit.prompt", Kind.STRING, "none",
              "What of each request's prompt the audit log keeps: none, sha256 (a SHA-256 of its text), or text (the text, up to 16 KiB, with keys, bearer tokens and other secret-shaped strings redacted)."),
          s("audit.checkpoint_every", Kind.INTEGER, "1000", "Audit records between two signed checkpoints."),
          s("audit.checkpoint_interval", Kind.DURATION, "60s",
              "Longest time new audit records stay without a signed checkpoint."));

  /** Settings by path, in schema order. */
  public static final Map<String, Setting> BY_PATH;

  static {
    Map<String, Setting> m = new LinkedHashMap<>();
    for (Setting s : ALL) {
      m.put(s.path(), s);
    }
    BY_PATH = java.util.Collections.unmodifiableMap(m);
  }
}
