package dev.gatehouse.account;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The streaming usage reader gives the figures the tree reading it replaced gave (kept here as the
 * reference), for every response shape, odd numbers, repeated names and malformed objects.
 */
class UsageFiguresTest {

  static final ObjectMapper JSON = new ObjectMapper();

  /** The tree reading UsageMeter did before: "in/out/usageOnly", or "none". */
  static String old(String json) {
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (IOException e) {
      return "none";
    }
    if (n == null || !n.isObject()) {
      return "none";
    }
    long in = -1;
    long out = -1;
    if (n.has("prompt_eval_count") || n.has("eval_count")) {
      in = tokens(n.path("prompt_eval_count"));
      out = tokens(n.path("eval_count"));
    } else {
      JsonNode u =
          n.has("usage")
              ? n.get("usage")
              : n.path("response").has("usage")
                  ? n.path("response").get("usage")
                  : n.path("message").path("usage");
      if (u.isObject()) {
        if (u.has("prompt_tokens") || u.has("completion_tokens")) {
          in = tokens(u.path("prompt_tokens"));
          out = tokens(u.path("completion_tokens"));
        } else if (u.has("input_tokens") || u.has("output_tokens")) {
          if (u.has("input_tokens")) {
            in = tokens(u.path("input_tokens"));
          }
          if (u.has("output_tokens")) {
            out = tokens(u.path("output_tokens"));
          }
        }
      }
    }
    boolean usageOnly = n.path("choices").isArray() && n.path("choices").isEmpty();
    return in + "/" + out + "/" + usageOnly;
  }

  static long tokens(JsonNode v) {
    if (v == null || !v.isIntegralNumber()) {
      return 0;
    }
    java.math.BigInteger b = v.bigIntegerValue();
    if (b.signum() < 0) {
      return 0;
    }
    return b.bitLength() < 63
        ? Math.min(b.longValue(), UsageMeter.MAX_TOKENS)
        : UsageMeter.MAX_TOKENS;
  }

  static String now(String json) {
    UsageFigures f = UsageFigures.read(json);
    return f == null ? "none" : f.in() + "/" + f.out() + "/" + f.noChoices();
  }

  static final List<String> HAND =
      List.of(
          "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"done\":false}",
          "{\"done\":true,\"prompt_eval_count\":12,\"eval_count\":34}",
          "{\"done\":true,\"eval_count\":34}",
          "{\"prompt_eval_count\":null}",
          "{\"eval_count\":18446744073709551617,\"prompt_eval_count\":-5}",
          "{\"eval_count\":18446744073709550616}",
          "{\"eval_count\":4611686018427387904}",
          "{\"eval_count\":1.5,\"prompt_eval_count\":\"7\"}",
          "{\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7}}",
          "{\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"usage\":null}",
          "{\"choices\":[{\"a\":[1,{\"b\":2}]},{\"c\":3}],\"usage\":{\"completion_tokens\":2}}",
          "{\"choices\":{},\"usage\":{\"prompt_tokens\":1}}",
          "{\"usage\":{\"input_tokens\":3}}",
          "{\"usage\":{\"output_tokens\":3,\"other\":[1]}}",
          "{\"usage\":{\"total_tokens\":3}}",
          "{\"usage\":5,\"response\":{\"usage\":{\"input_tokens\":9}}}",
          "{\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":9,"
              + "\"output_tokens\":11}}}",
          "{\"response\":{\"usage\":7},\"message\":{\"usage\":{\"input_tokens\":1}}}",
          "{\"response\":5,\"message\":{\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}",
          "{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":25,"
              + "\"output_tokens\":1}}}",
          "{\"usage\":{\"prompt_tokens\":1},\"usage\":{\"input_tokens\":2}}",
          "{\"eval_count\":1,\"eval_count\":2}",
          "{\"response\":{\"usage\":{\"input_tokens\":1}},\"response\":{}}",
          "{\"choices\":[],\"choices\":[1]}",
          "{\"usage\":{\"prompt_tokens\":1}} trailing",
          "{\"usage\":{\"prompt_tokens\":1}",
          "{\"usage\":{\"prompt_tokens\":" + "9".repeat(1200) + "}}",
          "{\"x\":" + "1".repeat(1200) + ",\"eval_count\":1}",
          "[1,2]",
          "",
          "not json",
          "{\"error\":\"boom\"}");

  static final String[] KEYS = {
    "usage",
    "response",
    "message",
    "choices",
    "prompt_eval_count",
    "eval_count",
    "prompt_tokens",
    "completion_tokens",
    "input_tokens",
    "output_tokens",
    "content",
    "x"
  };

  static void value(Random r, StringBuilder b, int depth) {
    switch (r.nextInt(depth > 3 ? 4 : 7)) {
      case 0 ->
          b.append(new String[] {"0", "5", "-3", "2.5", "18446744073709551617"}[r.nextInt(5)]);
      case 1 -> b.append(new String[] {"null", "true", "\"s\""}[r.nextInt(3)]);
      case 2, 3 -> b.append("\"text ").append(r.nextInt(100)).append('"');
      case 4 -> {
        b.append('[');
        int n = r.nextInt(3);
        for (int i = 0; i < n; i++) {
          b.append(i > 0 ? "," : "");
          value(r, b, depth + 1);
        }
        b.append(']');
      }
      default -> object(r, b, depth);
    }
  }

  static void object(Random r, StringBuilder b, int depth) {
    b.append('{');
    int n = r.nextInt(4);
    for (int i = 0; i < n; i++) {
      b.append(i > 0 ? "," : "").append('"').append(KEYS[r.nextInt(KEYS.length)]).append("\":");
      value(r, b, depth + 1);
    }
    b.append('}');
  }

  /** The hand-made objects and 5,000 random ones. */
  static List<String> all() {
    List<String> all = new ArrayList<>(HAND);
    Random r = new Random(4);
    for (int i = 0; i < 5000; i++) {
      StringBuilder b = new StringBuilder();
      object(r, b, 0);
      all.add(b.toString());
    }
    return all;
  }

  @Test
  void readsTheSameFiguresAsTheTreeDid() {
    List<String> all = all();
    int figures = 0;
    for (String json : all) {
      String was = old(json);
      assertThat(now(json)).as(json).isEqualTo(was);
      figures += was.startsWith("-1/-1/") || was.equals("none") ? 0 : 1;
    }
    assertThat(figures).isGreaterThan(200);
  }

  @Test
  void readsTheSameFiguresFromTheBytesAsFromTheDecodedText() {
    // why: a whole JSON answer and an NDJSON line with figures are read where they lie, as bytes,
    // with no decoded copy, and must give what their decoded text gives, whatever the bytes are
    List<byte[]> all = new ArrayList<>();
    for (String json : all()) {
      all.add(utf8(json));
      // text beyond ASCII, of two, three and four bytes a character, before and after the figures
      all.add(
          utf8(
              json.replace("text ", "t\u00e9xt \u65e5\u672c \ud83d\ude00 ")
                  .replace("{\"", "{\"\u00e9\":1,\"")));
      // bytes that are not UTF-8: a stray 0xFF and a cut character in the text, and in a name
      all.add(notUtf8(json.replace("text ", "text \u0001")));
      all.add(notUtf8(json.replace("{\"", "{\"\u0001\":1,\"")));
    }
    for (byte[] json : all) {
      String decoded = new String(json, StandardCharsets.UTF_8);
      byte[] framed = new byte[json.length + 4];
      System.arraycopy(json, 0, framed, 2, json.length);
      UsageFigures f = UsageFigures.read(framed, 2, json.length);
      assertThat(f == null ? "none" : f.in() + "/" + f.out() + "/" + f.noChoices())
          .as(decoded)
          .isEqualTo(now(decoded));
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * {@code s} in UTF-8 with each U+0001 made 0xFF and the first two bytes of a 3-byte character.
   */
  static byte[] notUtf8(String s) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte c : utf8(s)) {
      if (c == 1) {
        out.write(0xff);
        out.write(0xe6);
        out.write(0x97);
      } else {
        out.write(c);
      }
    }
    return out.toByteArray();
  }
}
