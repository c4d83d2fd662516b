package dev.gatehouse.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.exchange.JsonFields;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What of a request's prompt goes into its audit record ({@code audit.prompt}): nothing (the
 * default), a SHA-256 of its text, or the text with secrets redacted. The text is every text field
 * of the request body (prompt, system, input, suffix, instructions, content, and each message's
 * content) joined by newlines. Stateless and thread-safe.
 */
public final class PromptCapture {

  /** Longest prompt text kept in text mode; the rest is cut and marked. */
  static final int MAX_TEXT = 16 * 1024;

  private record Rule(Pattern pattern, String replacement) {}

  // Order matters: specific shapes first, then the generic long-token rules.
  private static final List<Rule> SECRETS =
      List.of(
          new Rule(Pattern.compile("gk_[A-Za-z0-9_-]{8,}"), "[REDACTED:gatehouse_key]"),
          new Rule(Pattern.compile("sk-[A-Za-z0-9_-]{16,}"), "[REDACTED:api_key]"),
          new Rule(Pattern.compile("(?i)\\bbearer\\s+[A-Za-z0-9._~+/=-]{8,}"), "Bearer [REDACTED]"),
          new Rule(
              Pattern.compile("\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b"), "[REDACTED:aws_access_key_id]"),
          new Rule(Pattern.compile("\\b[0-9a-fA-F]{32,}\\b"), "[REDACTED:hex]"),
          new Rule(Pattern.compile("[A-Za-z0-9+/_-]{40,}={0,2}"), "[REDACTED:token]"));

  private PromptCapture() {}

  /** The request's text fields joined by newlines, or null when it has none. */
  public static @Nullable String text(@Nullable JsonNode body) {
    if (body == null || !body.isObject()) {
      return null;
    }
    StringBuilder b = new StringBuilder();
    for (String f :
        new String[] {"system", "instructions", "prompt", "suffix", "input", "content"}) {
      collect(JsonFields.get(body, f), b);
    }
    JsonNode messages = JsonFields.get(body, "messages");
    if (messages != null && messages.isArray()) {
      for (JsonNode m : messages) {
        if (m.isObject()) {
          collect(JsonFields.get(m, "content"), b);
        }
      }
    }
    return b.isEmpty() ? null : b.toString();
  }

  private static void collect(@Nullable JsonNode n, StringBuilder b) {
    if (n == null) {
      return;
    }
    if (n.isTextual()) {
      String t = n.asText();
      if (!t.startsWith("data:")) { // images are not prompt text
        if (!b.isEmpty()) {
          b.append('\n');
        }
        b.append(t);
      }
    } else if (n.isArray()) {
      for (JsonNode part : n) {
        collect(part, b);
      }
    } else if (n.isObject()) {
      collect(JsonFields.get(n, "text"), b); // OpenAI content parts
    }
  }

  /** Lower-case hex SHA-256 of the text's UTF-8 bytes. */
  public static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The text with secrets replaced: Gatehouse keys, {@code sk-} keys, bearer tokens, AWS access key
   * ids, and long hex or base64-like tokens. Best effort: a secret of another shape is kept.
   */
  public static String redact(String text) {
    String t = text.length() > MAX_TEXT ? text.substring(0, MAX_TEXT) + "[CUT]" : text;
    for (Rule r : SECRETS) {
      t = r.pattern().matcher(t).replaceAll(r.replacement());
    }
    return t;
  }
}
