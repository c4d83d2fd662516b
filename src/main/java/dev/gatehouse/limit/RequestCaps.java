package dev.gatehouse.limit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.JsonFields;
import dev.gatehouse.exchange.MeasuredText;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Caps on what one request may ask of the model server: output tokens, context size, choices, how
 * long a model stays loaded, images, messages and prompt length. A huge {@code num_ctx} or an
 * unbounded {@code num_predict: -1} is how a single request knocks a GPU server over.
 *
 * <p>Token, context and choice caps either clamp the field to the cap (the default) or reject the
 * request, per {@code caps.mode}; a request that names no output cap gets the configured one, so
 * every generation is bounded. Image, message and prompt-length caps always reject: there is no
 * faithful smaller version of such a request. Immutable and thread-safe.
 */
public final class RequestCaps {

  private static final Pattern GO_DURATION =
      Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

  private final GatehouseConfig.Caps caps;

  public RequestCaps(GatehouseConfig.Caps caps) {
    this.caps = caps;
  }

  /** The outcome: a refusal, or whether the body was changed. */
  public record Result(@Nullable Rejection rejection, boolean changed) {}

  /** What applying the caps to one body found: one per call; not thread-safe. */
  private final class Run {
    boolean changed;
    @Nullable Rejection rejection;

    /**
     * Applies a numeric cap to {@code node.field}. The value is read as an exact integer: a number
     * of any size ({@code 2^64-1} and {@code 2^70} are compared as they are, never wrapped to a
     * small or negative {@code long}), or a float with an integral value ({@code 4096.0}, {@code
     * 1e3}, which Ollama's option decoder accepts), rewritten as that integer so the upstream
     * receives exactly what was checked. A fraction, a non-finite number, a string, a boolean or a
     * container is 400. Negative values mean "unlimited" where the server reads them so ({@code
     * num_predict}, {@code n_predict}: -1, -2, or any other negative) and count as above any cap;
     * elsewhere a negative value is 400.
     *
     * <p>The field is found as the server finds it: in a JSON object a Go struct decodes, by a name
     * that folds to it ({@link JsonFields#get}); in Ollama's {@code options}, a map, by its exact
     * name only ({@code exact}). Ollama ignores an option named {@code NUM_PREDICT}, so reading it
     * as {@code num_predict} would let a small value there pass for a cap while the model generates
     * without one; the exact name is added instead. For the same reason an output cap found only
     * under another spelling is also written under its exact name ({@code setWhenMissing}).
     */
    void cap(
        ObjectNode node,
        String field,
        int cap,
        boolean setWhenMissing,
        boolean negativeIsUnlimited) {
      cap(node, field, cap, setWhenMissing, negativeIsUnlimited, false);
    }

    void cap(
        ObjectNode node,
        String field,
        int cap,
        boolean setWhenMissing,
        boolean negativeIsUnlimited,
        boolean exact) {
      if (rejection != null) {
        return;
      }
      JsonNode v = exact ? node.get(field) : JsonFields.get(node, field);
      if (v == null || v.isNull()) {
        if (setWhenMissing) {
          node.put(field, cap);
          changed = true;
        }
        return;
      }
      BigInteger n = exactInteger(v);
      if (n == null) {
        rejection = Rejection.of(Problem.CAP_EXCEEDED, field + " must be a whole number");
        return;
      }
      boolean negative = n.signum() < 0;
      if (negative && !negativeIsUnlimited) {
        rejection = Rejection.of(Problem.CAP_EXCEEDED, field + " must not be negative");
        return;
      }
      String name = exact ? field : JsonFields.nameOf(node, field);
      if (negative || n.compareTo(BigInteger.valueOf(cap)) > 0) {
        if (caps.reject()) {
          rejection =
              Rejection.of(
                  Problem.CAP_EXCEEDED,
                  field + " " + shown(n) + " is above this gateway's cap of " + cap);
          return;
        }
        node.put(name, cap);
        changed = true;
      } else if (!v.isIntegralNumber() || !v.canConvertToInt()) {
        node.put(name, n.intValueExact()); // 4096.0 -> 4096: forward what was checked
        changed = true;
      }
      if (setWhenMissing && !exact) {
        spellExactly(node, field); // MAX_TOKENS: no cap to vLLM or llama.cpp
      }
    }

    /**
     * Writes {@code field}, found only under another spelling ({@code MAX_TOKENS}, {@code MODEL}),
     * again under its exact name, with the value checked. A Go server folds names and reads the
     * spelling sent, but vLLM, LM Studio and llama.cpp match names exactly and would see no such
     * field. Added last, so that Go's decoder (the last match wins) reads the same value.
     */
    void spellExactly(ObjectNode node, String field) {
      JsonNode checked = JsonFields.get(node, field);
      if (checked != null && !node.has(field)) {
        node.set(field, checked.deepCopy());
        changed = true;
      }
    }

    void reject(String message) {
      if (rejection == null) {
        rejection = Rejection.of(Problem.CAP_EXCEEDED, message);
      }
    }
  }

  /** The exact integer a JSON number stands for, or null when it is not a whole number. */
  static @Nullable BigInteger exactInteger(JsonNode v) {
    if (v.isIntegralNumber()) {
      return v.bigIntegerValue();
    }
    if (!v.isFloatingPointNumber()) {
      return null; // strings ("4096"), booleans, arrays, objects
    }
    BigDecimal d;
    if (v.isBigDecimal()) {
      d = v.decimalValue();
    } else {
      double x = v.doubleValue();
      if (!Double.isFinite(x)) {
        return null; // 1e400 parses to infinity
      }
      d = new BigDecimal(x);
    }
    try {
      return d.stripTrailingZeros().scale() > 1000 ? null : d.toBigIntegerExact();
    } catch (ArithmeticException notWhole) {
      return null;
    }
  }

  /** A number for a message: huge ones by their size, not their digits. */
  private static String shown(BigInteger n) {
    return n.bitLength() > 64
        ? (n.signum() < 0 ? "-" : "") + "2^" + (n.abs().bitLength() - 1) + "+"
        : n.toString();
  }

  /**
   * Applies the caps to a JSON request body for the given path.
   *
   * @param keyMaxOutput the key's own output cap, or null for the global one
   */
  public Result apply(String path, ObjectNode body, @Nullable Integer keyMaxOutput) {
    int maxOutput =
        keyMaxOutput == null
            ? caps.maxOutputTokens()
            : Math.min(keyMaxOutput, caps.maxOutputTokens());
    Run r = new Run();
    // the model the key was checked against: an exact-matching server would serve its default
    r.spellExactly(body, "model");
    boolean ollama =
        path.startsWith("/api/")
            && !path.startsWith("/api/v0/"); // /api/v0 is LM Studio's, OpenAI-shaped
    boolean generation = generates(path);
    if (ollama) {
      ObjectNode options = objectField(body, "options");
      if (options == null && generation) {
        options = body.putObject("options");
        r.changed = true;
      }
      if (options != null) {
        // options is a map in Ollama (Options.FromMap): its keys match exactly, unlike the
        // request's own fields
        r.cap(options, "num_ctx", caps.numCtx(), false, false, true);
        if (generation) {
          r.cap(options, "num_predict", maxOutput, true, true, true);
        }
      }
      keepAlive(r, body);
    } else if (path.equals("/completion") || path.equals("/infill")) {
      r.cap(body, "n_predict", maxOutput, true, true); // llama.cpp's own API
      r.cap(
          body,
          "max_tokens",
          maxOutput,
          false,
          false); // llama.cpp reads it when n_predict is absent
    } else if (path.equals("/v1/responses")) {
      r.cap(body, "max_output_tokens", maxOutput, true, false);
    } else if (path.equals("/v1/images/generations")) {
      r.cap(body, "n", caps.n(), false, false); // images per request
    } else if (generation && (path.startsWith("/v1/") || path.startsWith("/api/v0/"))) {
      boolean hasCompletionField = JsonFields.get(body, "max_completion_tokens") != null;
      r.cap(body, "max_tokens", maxOutput, !hasCompletionField, false);
      r.cap(body, "max_completion_tokens", maxOutput, false, false);
      // llama.cpp reads n_predict on its OpenAI routes too, ahead of max_tokens; vLLM's best_of
      // generates that many sequences
      r.cap(body, "n_predict", maxOutput, false, true);
      r.cap(body, "n", caps.n(), false, false);
      r.cap(body, "best_of", caps.n(), false, false);
    }
    contents(r, body);
    return new Result(r.rejection, r.changed);
  }

  /**
   * True for routes that generate text, which get an output cap; counting, embedding, audio and
   * images do not.
   */
  static boolean generates(String path) {
    for (String no :
        new String[] {
          "embed",
          "rerank",
          "score",
          "pooling",
          "tokenize",
          "count_tokens",
          "input_tokens",
          "/audio/",
          "/images/",
          "classify",
          "/apply-template"
        }) {
      if (path.contains(no)) {
        return false;
      }
    }
    return true;
  }

  private static @Nullable ObjectNode objectField(ObjectNode body, String name) {
    JsonNode n = JsonFields.get(body, name);
    return n instanceof ObjectNode o ? o : null;
  }

  /** keep_alive: seconds or a Go duration; negative means "keep loaded forever". */
  private void keepAlive(Run r, ObjectNode body) {
    JsonNode v = JsonFields.get(body, "keep_alive");
    if (v == null || v.isNull() || r.rejection != null) {
      return;
    }
    Duration asked = parseKeepAlive(v);
    if (asked == null) {
      r.reject("keep_alive " + v + " is not a duration");
      return;
    }
    boolean forever = asked.isNegative();
    if (forever || asked.compareTo(caps.keepAliveMax()) > 0) {
      if (caps.reject()) {
        r.reject(
            "keep_alive "
                + v.asText()
                + " is above this gateway's cap of "
                + caps.keepAliveMax().toSeconds()
                + "s");
      } else {
        body.put(JsonFields.nameOf(body, "keep_alive"), caps.keepAliveMax().toSeconds() + "s");
        r.changed = true;
      }
    }
  }

  static @Nullable Duration parseKeepAlive(JsonNode v) {
    if (v.isNumber()) {
      // seconds, read exactly: 2^70 or -2^70 must not wrap, and 1e400 (infinity) is no duration
      BigDecimal seconds =
          v.isIntegralNumber()
              ? new BigDecimal(v.bigIntegerValue())
              : v.isBigDecimal()
                  ? v.decimalValue()
                  : Double.isFinite(v.doubleValue()) ? new BigDecimal(v.doubleValue()) : null;
      return seconds == null ? null : ofSeconds(seconds);
    }
    if (!v.isTextual()) {
      return null;
    }
    String t = v.asText().trim();
    if (t.matches("-?\\d+(\\.\\d+)?")) {
      return Duration.ofMillis((long) (Double.parseDouble(t) * 1000));
    }
    boolean negative = t.startsWith("-");
    String rest = negative || t.startsWith("+") ? t.substring(1) : t;
    Matcher m = GO_DURATION.matcher(rest);
    double nanos = 0;
    int at = 0;
    while (m.find() && m.start() == at) {
      double n = Double.parseDouble(m.group(1));
      nanos +=
          n
              * switch (m.group(2)) {
                case "ns" -> 1d;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
              };
      at = m.end();
    }
    if (at != rest.length() || rest.isEmpty()) {
      return null;
    }
    Duration d = Duration.ofNanos((long) nanos);
    return negative ? d.negated() : d;
  }

  /**
   * A duration of this many seconds, saturated at a billion seconds either way (far past any cap).
   */
  private static Duration ofSeconds(BigDecimal seconds) {
    BigDecimal limit = BigDecimal.valueOf(1_000_000_000L);
    BigDecimal s =
        seconds.abs().compareTo(limit) > 0
            ? (seconds.signum() < 0 ? limit.negate() : limit)
            : seconds;
    return Duration.ofNanos(
        s.movePointRight(9).setScale(0, java.math.RoundingMode.DOWN).longValueExact());
  }

  /** Messages, images and prompt length, over both APIs' shapes. */
  private void contents(Run r, ObjectNode body) {
    long[] chars = {0};
    int[] images = {0};
    for (String f :
        new String[] {"prompt", "system", "input", "suffix", "instructions", "content"}) {
      countText(JsonFields.get(body, f), chars, images, r);
    }
    JsonNode topImages = JsonFields.get(body, "images");
    countImages(topImages, images, r);
    JsonNode messages = JsonFields.get(body, "messages");
    if (messages instanceof ArrayNode arr) {
      if (arr.size() > caps.messages()) {
        r.reject(arr.size() + " messages is above this gateway's cap of " + caps.messages());
      }
      for (JsonNode m : arr) {
        if (m.isObject()) {
          countText(JsonFields.get(m, "content"), chars, images, r);
          countImages(JsonFields.get(m, "images"), images, r);
        }
      }
    }
    if (chars[0] > caps.promptChars()) {
      r.reject(
          "request text of "
              + chars[0]
              + " characters is above this gateway's cap of "
              + caps.promptChars());
    }
    if (images[0] > caps.images()) {
      r.reject(images[0] + " images is above this gateway's cap of " + caps.images());
    }
  }

  private void countText(@Nullable JsonNode n, long[] chars, int[] images, Run r) {
    if (n == null) {
      return;
    }
    if (n.isTextual()) {
      String t = n.asText();
      if (t.startsWith("data:image/")) {
        countImage(t, images, r);
      } else {
        chars[0] += t.length();
      }
    } else if (n.isArray()) {
      for (JsonNode part : n) {
        countText(part, chars, images, r);
      }
    } else if (n.isObject()) {
      // OpenAI content parts: {"type":"text","text":...},
      // {"type":"image_url","image_url":{"url":...}}
      countText(JsonFields.get(n, "text"), chars, images, r);
      countText(JsonFields.get(n, "content"), chars, images, r);
      JsonNode url = JsonFields.get(n, "image_url");
      if (url != null) {
        JsonNode u = url.isObject() ? JsonFields.get(url, "url") : url;
        if (u != null && u.isTextual()) {
          countImage(u, images, r);
        }
      }
      JsonNode source = JsonFields.get(n, "source"); // Anthropic image blocks
      if (source != null && source.isObject() && JsonFields.get(source, "data") != null) {
        countImage(java.util.Objects.requireNonNull(JsonFields.get(source, "data")), images, r);
      }
    }
  }

  private void countImages(@Nullable JsonNode n, int[] images, Run r) {
    if (n instanceof ArrayNode arr) {
      for (JsonNode img : arr) {
        if (img.isTextual()) {
          countImage(img, images, r);
        }
      }
    }
  }

  /**
   * An image payload: a {@link MeasuredText} (the body reader measured it without keeping it), or
   * any other node, read as text (a full tree's string, a number, a null).
   */
  private void countImage(JsonNode image, int[] images, Run r) {
    countImage(
        image instanceof MeasuredText m ? m.payloadChars() : payloadChars(image.asText()),
        images,
        r);
  }

  private static long payloadChars(String base64OrDataUrl) {
    int comma = base64OrDataUrl.startsWith("data:") ? base64OrDataUrl.indexOf(',') + 1 : 0;
    return (long) base64OrDataUrl.length() - comma;
  }

  private void countImage(String dataUrlInText, int[] images, Run r) {
    countImage(payloadChars(dataUrlInText), images, r);
  }

  private void countImage(long payloadChars, int[] images, Run r) {
    images[0]++;
    long decoded = payloadChars * 3 / 4;
    if (decoded > caps.imageBytes()) {
      r.reject(
          "an image of " + decoded + " bytes is above this gateway's cap of " + caps.imageBytes());
    }
  }
}
