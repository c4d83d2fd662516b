package dev.gatehouse.account;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig.AuditPrompt;
import dev.gatehouse.pipeline.Exchange;
import java.time.Instant;

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
 */
public record AuditRecord(
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

  private static final int MAX_TEXT = 512;
  /** Fixed width (always milliseconds), so that times compare as strings in the indexed column. */
  private static final java.time.format.DateTimeFormatter TIME =
      java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);

  /** Builds the record of an exchange as it stands now; call on the exchange's event loop. */
  public static AuditRecord of(Exchange x, int status, AuditPrompt prompt) {
    String text = prompt == AuditPrompt.NONE ? null : PromptCapture.text(x.json);
    long now = System.nanoTime();
    boolean refused = x.problem != null;
    String ua = x.request.getHeader("User-Agent");
    return new AuditRecord(
        TIME.format(Instant.ofEpochMilli(x.startMillis)),
        x.requestId,
        x.clientIp,
        x.principal == null ? null : x.principal.keyId(),
        x.principal == null ? null : x.principal.keyName(),
        x.request.method().name(),
        x.target == null ? null : clip(x.target.path()),
        x.route == null ? null : x.route.operation().scope,
        x.model == null ? null : clip(x.model),
        status,
        !refused ? "allow" : x.problem.status >= 500 ? "error" : "deny",
        refused ? x.problem.code : "ok",
        x.bytesIn,
        x.bytesOut,
        x.tap == null ? -1 : x.tap.tokensIn(),
        x.tap == null ? -1 : x.tap.tokensOut(),
        x.upstreamFirstByteNanos / 1000,
        x.upstreamStartNanos == 0 ? 0 : (now - x.upstreamStartNanos) / 1000,
        (now - x.startNanos) / 1000,
        ua == null ? null : clip(ua),
        x.clientGone,
        text != null && prompt == AuditPrompt.SHA256 ? PromptCapture.sha256(text) : null,
        text != null && prompt == AuditPrompt.TEXT ? PromptCapture.redact(text) : null);
  }

  private static String clip(String s) {
    return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT);
  }

  /**
   * The record's fields as JSON, in a fixed order: with {@code seq} and {@code prev} added this is
   * the canonical form the chain hash covers.
   */
  public ObjectNode toJson(ObjectMapper json, long seq, String prev) {
    ObjectNode o = json.createObjectNode();
    o.put("seq", seq);
    o.put("prev", prev);
    o.put("time", time);
    o.put("request_id", requestId);
    o.put("ip", ip);
    o.put("key_id", keyId);
    o.put("key_name", keyName);
    o.put("method", method);
    o.put("path", path);
    o.put("op", op);
    o.put("model", model);
    o.put("status", status);
    o.put("decision", decision);
    o.put("reason", reason);
    o.put("bytes_in", bytesIn);
    o.put("bytes_out", bytesOut);
    o.put("tokens_in", tokensIn);
    o.put("tokens_out", tokensOut);
    o.put("ttfb_us", ttfbMicros);
    o.put("upstream_us", upstreamMicros);
    o.put("total_us", totalMicros);
    o.put("user_agent", userAgent);
    o.put("client_gone", clientGone);
    if (promptSha256 != null) {
      o.put("prompt_sha256", promptSha256);
    }
    if (promptText != null) {
      o.put("prompt_text", promptText);
    }
    return o;
  }
}
