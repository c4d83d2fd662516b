package dev.gatehouse.account;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The token figures of one response object (an NDJSON line, an SSE event's data, a whole JSON
 * answer), read in one streaming pass that skips everything else (the message content above all)
 * without decoding it: Ollama's {@code prompt_eval_count} and {@code eval_count}; OpenAI's {@code
 * usage} ({@code prompt_tokens}, {@code completion_tokens}), also inside {@code response} (the
 * Responses API) and {@code message} (Anthropic's message_start), with {@code input_tokens} and
 * {@code output_tokens}. Reads as the tree it replaces did: exact names, the last of a repeated
 * name wins, the first JSON value of the text only, and a text that is not a well-formed object up
 * to its end gives nothing.
 *
 * @param in the input tokens, or -1 when the object does not say
 * @param out the output tokens, or -1 when the object does not say
 * @param noChoices {@code choices} is an empty array: an OpenAI usage-only stream event
 */
record UsageFigures(long in, long out, boolean noChoices) {

  private static final JsonFactory JSON = new JsonFactory();

  /** One {@code usage} value's figures; -2 for a name it does not have. */
  private static final class Usage {
    boolean object;
    long prompt = -2;
    long completion = -2;
    long input = -2;
    long output = -2;
  }

  /** The figures of {@code json}, or null when it is not a well-formed JSON object. */
  static @Nullable UsageFigures read(String json) {
    try (JsonParser p = JSON.createParser(json)) {
      return read(p);
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * The figures of the JSON text in {@code bytes[offset, offset + length)}, as {@link
   * #read(String)} gives them for its decoded text: read where the bytes lie (no decoded copy), and
   * from the decoded text only when that read gives nothing, as it does for bytes that are not
   * UTF-8 throughout (a stray 0xFF, a cut character), which the decoded text reads with replacement
   * characters.
   */
  static @Nullable UsageFigures read(byte[] bytes, int offset, int length) {
    UsageFigures f;
    try (JsonParser p = JSON.createParser(bytes, offset, length)) {
      f = read(p);
    } catch (IOException e) {
      f = null;
    }
    return f != null ? f : read(new String(bytes, offset, length, StandardCharsets.UTF_8));
  }

  private static @Nullable UsageFigures read(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      return null;
    }
    long promptEval = -2;
    long eval = -2;
    Usage usage = null;
    Usage responseUsage = null;
    Usage messageUsage = null;
    boolean noChoices = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      switch (name) {
        case "prompt_eval_count" -> promptEval = tokens(p);
        case "eval_count" -> eval = tokens(p);
        case "usage" -> usage = usage(p);
        case "response" -> responseUsage = nested(p);
        case "message" -> messageUsage = nested(p);
        case "choices" -> noChoices = emptyArray(p, v);
        default -> p.skipChildren();
      }
    }
    if (promptEval != -2 || eval != -2) { // Ollama
      return new UsageFigures(Math.max(0, promptEval), Math.max(0, eval), noChoices);
    }
    Usage u = usage != null ? usage : responseUsage != null ? responseUsage : messageUsage;
    long in = -1;
    long out = -1;
    if (u != null && u.object) {
      if (u.prompt != -2 || u.completion != -2) {
        in = Math.max(0, u.prompt);
        out = Math.max(0, u.completion);
      } else {
        in = u.input != -2 ? u.input : -1;
        out = u.output != -2 ? u.output : -1;
      }
    }
    return new UsageFigures(in, out, noChoices);
  }

  /**
   * The {@code usage} of a {@code response} or {@code message} object (the value at the current
   * token), or null when it is not an object or has none.
   */
  private static @Nullable Usage nested(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      p.skipChildren();
      return null;
    }
    Usage found = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      if (name.equals("usage")) {
        found = usage(p);
      } else {
        p.skipChildren();
      }
    }
    return found;
  }

  /** True when the value at the current token is an empty array; skips it. */
  private static boolean emptyArray(JsonParser p, JsonToken v) throws IOException {
    if (v != JsonToken.START_ARRAY) {
      p.skipChildren();
      return false;
    }
    if (p.nextToken() == JsonToken.END_ARRAY) {
      return true;
    }
    do {
      p.skipChildren(); // each item: the message content goes by undecoded
    } while (p.nextToken() != JsonToken.END_ARRAY);
    return false;
  }

  /** A usage value's figures (the value at the current token); none when it is not an object. */
  private static Usage usage(JsonParser p) throws IOException {
    Usage u = new Usage();
    if (p.currentToken() != JsonToken.START_OBJECT) {
      p.skipChildren();
      return u;
    }
    u.object = true;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      switch (name) {
        case "prompt_tokens" -> u.prompt = tokens(p);
        case "completion_tokens" -> u.completion = tokens(p);
        case "input_tokens" -> u.input = tokens(p);
        case "output_tokens" -> u.output = tokens(p);
        default -> p.skipChildren();
      }
    }
    return u;
  }

  /**
   * A token figure (the value at the current token), read exactly: a whole number from 0 up; past
   * {@link UsageMeter#MAX_TOKENS} it counts as that; a negative, fractional or non-numeric one (a
   * container is skipped) as 0.
   */
  private static long tokens(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
      p.skipChildren();
      return 0;
    }
    if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      return p.getBigIntegerValue().signum() < 0 ? 0 : UsageMeter.MAX_TOKENS;
    }
    long v = p.getLongValue();
    return v < 0 ? 0 : Math.min(v, UsageMeter.MAX_TOKENS);
  }
}
