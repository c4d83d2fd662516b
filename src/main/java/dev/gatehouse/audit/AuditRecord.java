package dev.gatehouse.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig.AuditPrompt;
import dev.gatehouse.exchange.Exchange;
import java.time.Instant;
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
    @Nullable String guardSecrets) {

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
        null);
  }

  private static final int MAX_TEXT = 512;

  /** Fixed width (always milliseconds), so that times compare as strings in the indexed column. */
  static final java.time.format.DateTimeFormatter TIME =
      java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
          .withZone(java.time.ZoneOffset.UTC);

  /** Builds the record of an exchange as it stands now; call on the exchange's event loop. */
  public static AuditRecord of(Exchange x, int status, AuditPrompt prompt) {
    String text = prompt == AuditPrompt.NONE ? null : PromptCapture.text(x.json());
    long now = System.nanoTime();
    String ua = x.request().getHeader("User-Agent");
    return new AuditRecord(
        TIME.format(Instant.ofEpochMilli(x.startMillis())),
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
        x.guard().secrets());
  }

  private static String clip(String s) {
    return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT);
  }

  private static final com.fasterxml.jackson.core.JsonFactory FACTORY =
      new com.fasterxml.jackson.core.JsonFactory();

  /**
   * The record's canonical JSON, with {@code seq} and {@code prev} first and fields always in this
   * order: what the chain hash covers (the log line adds {@code hash} at the end). Written with a
   * streaming generator: this runs once per request on the audit writer's thread.
   */
  public byte[] canonicalJson(long seq, String prev) {
    com.fasterxml.jackson.core.util.ByteArrayBuilder out =
        new com.fasterxml.jackson.core.util.ByteArrayBuilder(512);
    try (com.fasterxml.jackson.core.JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("seq", seq);
      g.writeStringField("prev", prev);
      g.writeStringField("time", time);
      g.writeStringField("request_id", requestId);
      g.writeStringField("ip", ip);
      g.writeStringField("key_id", keyId);
      g.writeStringField("key_name", keyName);
      g.writeStringField("method", method);
      g.writeStringField("path", path);
      g.writeStringField("op", op);
      g.writeStringField("model", model);
      g.writeNumberField("status", status);
      g.writeStringField("decision", decision);
      g.writeStringField("reason", reason);
      g.writeNumberField("bytes_in", bytesIn);
      g.writeNumberField("bytes_out", bytesOut);
      g.writeNumberField("tokens_in", tokensIn);
      g.writeNumberField("tokens_out", tokensOut);
      g.writeNumberField("ttfb_us", ttfbMicros);
      g.writeNumberField("upstream_us", upstreamMicros);
      g.writeNumberField("total_us", totalMicros);
      g.writeStringField("user_agent", userAgent);
      g.writeBooleanField("client_gone", clientGone);
      if (promptSha256 != null) {
        g.writeStringField("prompt_sha256", promptSha256);
      }
      if (promptText != null) {
        g.writeStringField("prompt_text", promptText);
      }
      if (guardVerdict != null) {
        g.writeStringField("guard_verdict", guardVerdict);
        g.writeNumberField("guard_score", guardScore);
        if (guardFamilies != null) {
          g.writeStringField("guard_families", guardFamilies);
        }
      }
      if (guardSecrets != null) {
        g.writeStringField("guard_secrets", guardSecrets);
      }
      g.writeEndObject();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e); // an in-memory buffer does not fail
    }
    return out.toByteArray();
  }

  /** The canonical JSON (see {@link #canonicalJson}) as a tree. */
  public ObjectNode toJson(ObjectMapper json, long seq, String prev) {
    try {
      return (ObjectNode) json.readTree(canonicalJson(seq, prev));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
