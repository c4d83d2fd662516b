package dev.gatehouse.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig.AuditPrompt;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.FramingRefusal;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.jspecify.annotations.Nullable;

/**
 * One audit record: what happened to one request, refusals included. It never holds key material
 * (only the key's id and name) nor prompt or response text. Immutable.
 *
 * @param tokensIn prompt tokens from the upstream's own figures, or -1 when unknown
 * @param tokensOut output tokens, or -1 when unknown
 * @param ttfbMicros microseconds from the start to the upstream's response head (0: none)
 * @param promptSha256 SHA-256 of the prompt text, only with {@code audit.prompt: sha256}
 * @param promptText the prompt text with secrets redacted, only with {@code audit.prompt: text}
 * @param upstreamMicros microseconds from sending the request upstream to the end of its response
 *     (0: not relayed)
 * @param guardVerdict the prompt guard's verdict (pass, flag, block, error), or null when it did
 *     not inspect the request
 * @param guardScore the guard's score, 0 to 1
 * @param guardFamilies the guard's rule families that fired, comma-separated, or null
 * @param guardSecrets secrets found in the prompt as kind:count pairs, or null (never the secrets)
 * @param detail the finer reason of a refusal (the access log's {@code detail}, for example "JWT:
 *     Expired JWT"), or null; the client never sees it. Cleaned on the way in ({@link
 *     #cleanDetail}): never a secret, at most {@value #MAX_DETAIL} characters
 */
public record AuditRecord(
    String time,
    String requestId,
    String ip,
    @Nullable String keyId,
    @Nullable String keyName,
    String method,
    @Nullable String path,
    @Nullable String op,
    @Nullable String model,
    int status,
    String decision,
    String reason,
    long bytesIn,
    long bytesOut,
    long tokensIn,
    long tokensOut,
    long ttfbMicros,
    long upstreamMicros,
    long totalMicros,
    @Nullable String userAgent,
    boolean clientGone,
    @Nullable String promptSha256,
    @Nullable String promptText,
    @Nullable String guardVerdict,
    double guardScore,
    @Nullable String guardFamilies,
    @Nullable String guardSecrets,
    @Nullable String detail) {

  /** A compact JWT, whatever its parts' lengths (its header is base64url JSON: {@code eyJ}). */
  private static final java.util.regex.Pattern JWT =
      java.util.regex.Pattern.compile("eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*(?:\\.[A-Za-z0-9_-]*)?");

  /** Longest {@code detail} kept; the rest is cut. */
  static final int MAX_DETAIL = 200;

  public AuditRecord {
    detail = cleanDetail(detail);
  }

  /** A record without guard fields (the guard did not inspect the request). */
  public AuditRecord(
      String time,
      String requestId,
      String ip,
      String keyId,
      String keyName,
      String method,
      String path,
      String op,
      String model,
      int status,
      String decision,
      String reason,
      long bytesIn,
      long bytesOut,
      long tokensIn,
      long tokensOut,
      long ttfbMicros,
      long upstreamMicros,
      long totalMicros,
      String userAgent,
      boolean clientGone,
      String promptSha256,
      String promptText) {
    this(
        time,
        requestId,
        ip,
        keyId,
        keyName,
        method,
        path,
        op,
        model,
        status,
        decision,
        reason,
        bytesIn,
        bytesOut,
        tokensIn,
        tokensOut,
        ttfbMicros,
        upstreamMicros,
        totalMicros,
        userAgent,
        clientGone,
        promptSha256,
        promptText,
        null,
        0,
        null,
        null,
        null);
  }

  private static final int MAX_TEXT = 512;

  /** Fixed width (always milliseconds), so that times compare as strings in the indexed column. */
  static final java.time.format.DateTimeFormatter TIME =
      java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
          .withZone(java.time.ZoneOffset.UTC);

  /**
   * Builds the record of an exchange as it stands now; call on the exchange's event loop. {@code
   * times} formats its start time (one per gateway, shared by every event loop).
   */
  public static AuditRecord of(Exchange x, int status, AuditPrompt prompt, AuditTimes times) {
    String text = prompt == AuditPrompt.NONE ? null : PromptCapture.text(x.json());
    long now = System.nanoTime();
    String ua = x.request().getHeader("User-Agent");
    return new AuditRecord(
        times.format(x.startMillis()),
        x.requestId(),
        x.clientIp(),
        x.principal() == null ? null : x.principal().keyId(),
        x.principal() == null ? null : x.principal().keyName(),
        x.request().method().name(),
        x.target() == null ? null : clip(x.target().path()),
        x.route() == null ? null : x.route().operation().scope,
        x.modelName() != null
            ? x.modelName().recorded()
            : x.model() == null ? null : clip(x.model()), // the canonical name once parsed
        status,
        x.problem() == null ? "allow" : x.problem().status >= 500 ? "error" : "deny",
        x.problem() != null ? x.problem().code : "ok",
        x.bytesIn(),
        x.bytesOut(),
        x.tap() == null ? -1 : x.tap().tokensIn(),
        x.tap() == null ? -1 : x.tap().tokensOut(),
        x.upstreamFirstByteNanos() / 1000,
        x.upstreamStartNanos() == 0 ? 0 : (now - x.upstreamStartNanos()) / 1000,
        (now - x.startNanos()) / 1000,
        ua == null ? null : clip(ua),
        x.clientGone(),
        text != null && prompt == AuditPrompt.SHA256 ? PromptCapture.sha256(text) : null,
        text != null && prompt == AuditPrompt.TEXT ? PromptCapture.redact(text) : null,
        x.guard().verdict(),
        x.guard().score(),
        x.guard().families(),
        x.guard().secrets(),
        x.problem() == null ? null : x.logReason());
  }

  /**
   * The record of a request the framing check refused before the pipeline saw it: no key, route or
   * model was looked at; the method and path when its request line showed them; the check's reason
   * as the detail. Timed at the refusal (the check keeps no clock per request).
   */
  public static AuditRecord ofRefused(FramingRefusal r, String ip, AuditTimes times) {
    return new AuditRecord(
        times.format(System.currentTimeMillis()),
        r.requestId(),
        ip,
        null,
        null,
        r.method() == null ? "-" : r.method(),
        r.path() == null ? null : clip(r.path()),
        null,
        null,
        r.status(),
        "deny", // the client's bytes, never the gateway's failure (505 included)
        r.problem().code,
        r.bytesIn(),
        r.bytesOut(),
        -1,
        -1,
        0,
        0,
        0,
        null,
        false,
        null,
        null,
        null,
        0,
        null,
        null,
        r.why());
  }

  private static String clip(String s) {
    return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT);
  }

  /**
   * A refusal's log reason as the record keeps it: control characters made spaces, anything shaped
   * like a key or token redacted as in prompt text ({@link PromptCapture#redact}), and cut to
   * {@value #MAX_DETAIL} characters; null when nothing is left. Why: the reasons are written not to
   * hold secrets, but some carry an exception's message or a value the client sent (a JWT's issuer,
   * a certificate's subject), and the audit log is kept and shipped for years.
   */
  static @Nullable String cleanDetail(@Nullable String reason) {
    if (reason == null) {
      return null;
    }
    // Bound the work first: the redaction rules scan the whole text
    String s = reason.length() > 4 * MAX_DETAIL ? reason.substring(0, 4 * MAX_DETAIL) : reason;
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints()
        .forEach(
            c ->
                b.appendCodePoint(
                    Character.isISOControl(c)
                            || c == 0x2028
                            || c == 0x2029
                            || Character.getType(c) == Character.FORMAT
                        ? ' '
                        // a lone surrogate (a cut pair, or an exception's odd text) is not UTF-8
                        : Character.getType(c) == Character.SURROGATE ? '?' : c));
    String t = PromptCapture.redact(JWT.matcher(b.toString()).replaceAll("[REDACTED:jwt]")).strip();
    if (t.length() > MAX_DETAIL) {
      int end = Character.isHighSurrogate(t.charAt(MAX_DETAIL - 1)) ? MAX_DETAIL - 1 : MAX_DETAIL;
      t = t.substring(0, end);
    }
    return t.isEmpty() ? null : t;
  }

  private static final JsonFactory FACTORY = new JsonFactory();

  /**
   * The record's canonical JSON, with {@code seq} and {@code prev} first and fields always in this
   * order: what the chain hash covers (the log line adds {@code hash} at the end). The writer
   * thread does not come here: {@link AuditLines} writes the same bytes through one generator it
   * keeps ({@link #writeCanonical}); this is the one-off form, for tests and tools.
   */
  public byte[] canonicalJson(long seq, String prev) {
    ByteArrayBuilder out = new ByteArrayBuilder(512);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      writeCanonical(g, seq, prev);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // an in-memory buffer does not fail
    }
    return out.toByteArray();
  }

  // The field names, encoded once (Jackson writes the bytes of a SerializedString as they are).
  private static final SerializedString SEQ = new SerializedString("seq");
  private static final SerializedString PREV = new SerializedString("prev");
  private static final SerializedString TIME_FIELD = new SerializedString("time");
  private static final SerializedString REQUEST_ID = new SerializedString("request_id");
  private static final SerializedString IP = new SerializedString("ip");
  private static final SerializedString KEY_ID = new SerializedString("key_id");
  private static final SerializedString KEY_NAME = new SerializedString("key_name");
  private static final SerializedString METHOD = new SerializedString("method");
  private static final SerializedString PATH = new SerializedString("path");
  private static final SerializedString OP = new SerializedString("op");
  private static final SerializedString MODEL = new SerializedString("model");
  private static final SerializedString STATUS = new SerializedString("status");
  private static final SerializedString DECISION = new SerializedString("decision");
  private static final SerializedString REASON = new SerializedString("reason");
  private static final SerializedString BYTES_IN = new SerializedString("bytes_in");
  private static final SerializedString BYTES_OUT = new SerializedString("bytes_out");
  private static final SerializedString TOKENS_IN = new SerializedString("tokens_in");
  private static final SerializedString TOKENS_OUT = new SerializedString("tokens_out");
  private static final SerializedString TTFB_US = new SerializedString("ttfb_us");
  private static final SerializedString UPSTREAM_US = new SerializedString("upstream_us");
  private static final SerializedString TOTAL_US = new SerializedString("total_us");
  private static final SerializedString USER_AGENT = new SerializedString("user_agent");
  private static final SerializedString CLIENT_GONE = new SerializedString("client_gone");
  private static final SerializedString PROMPT_SHA256 = new SerializedString("prompt_sha256");
  private static final SerializedString PROMPT_TEXT = new SerializedString("prompt_text");
  private static final SerializedString GUARD_VERDICT = new SerializedString("guard_verdict");
  private static final SerializedString GUARD_SCORE = new SerializedString("guard_score");
  private static final SerializedString GUARD_FAMILIES = new SerializedString("guard_families");
  private static final SerializedString GUARD_SECRETS = new SerializedString("guard_secrets");
  private static final SerializedString DETAIL = new SerializedString("detail");

  /**
   * Writes the canonical JSON object (see {@link #canonicalJson}) to {@code g}; {@code prev} is the
   * previous record's hash. The order of the fields, and which are left out when null, is the log's
   * format: the hash chain covers these bytes exactly.
   */
  void writeCanonical(JsonGenerator g, long seq, String prev) throws IOException {
    g.writeStartObject();
    g.writeFieldName(SEQ);
    g.writeNumber(seq);
    string(g, PREV, prev);
    string(g, TIME_FIELD, time);
    string(g, REQUEST_ID, requestId);
    string(g, IP, ip);
    string(g, KEY_ID, keyId);
    string(g, KEY_NAME, keyName);
    string(g, METHOD, method);
    string(g, PATH, path);
    string(g, OP, op);
    string(g, MODEL, model);
    number(g, STATUS, status);
    string(g, DECISION, decision);
    string(g, REASON, reason);
    if (detail != null) { // only when present: the records before the field keep their bytes
      string(g, DETAIL, detail);
    }
    number(g, BYTES_IN, bytesIn);
    number(g, BYTES_OUT, bytesOut);
    number(g, TOKENS_IN, tokensIn);
    number(g, TOKENS_OUT, tokensOut);
    number(g, TTFB_US, ttfbMicros);
    number(g, UPSTREAM_US, upstreamMicros);
    number(g, TOTAL_US, totalMicros);
    string(g, USER_AGENT, userAgent);
    g.writeFieldName(CLIENT_GONE);
    g.writeBoolean(clientGone);
    if (promptSha256 != null) {
      string(g, PROMPT_SHA256, promptSha256);
    }
    if (promptText != null) {
      string(g, PROMPT_TEXT, promptText);
    }
    if (guardVerdict != null) {
      string(g, GUARD_VERDICT, guardVerdict);
      g.writeFieldName(GUARD_SCORE);
      g.writeNumber(guardScore);
      if (guardFamilies != null) {
        string(g, GUARD_FAMILIES, guardFamilies);
      }
    }
    if (guardSecrets != null) {
      string(g, GUARD_SECRETS, guardSecrets);
    }
    g.writeEndObject();
  }

  /** A string field; null is written as JSON null, as {@code writeStringField} does. */
  private static void string(JsonGenerator g, SerializedString name, @Nullable String value)
      throws IOException {
    g.writeFieldName(name);
    g.writeString(value);
  }

  private static void number(JsonGenerator g, SerializedString name, long value)
      throws IOException {
    g.writeFieldName(name);
    g.writeNumber(value);
  }

  /** The canonical JSON (see {@link #canonicalJson}) as a tree. */
  public ObjectNode toJson(ObjectMapper json, long seq, String prev) {
    try {
      return (ObjectNode) json.readTree(canonicalJson(seq, prev));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
