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

  @Test
  void readsTheSameFiguresAsTheTreeDid() {
    List<String> all = new ArrayList<>(HAND);
    Random r = new Random(4);
    for (int i = 0; i < 5000; i++) {
      StringBuilder b = new StringBuilder();
      object(r, b, 0);
      all.add(b.toString());
    }
    int figures = 0;
    for (String json : all) {
      String was = old(json);
      assertThat(now(json)).as(json).isEqualTo(was);
      figures += was.startsWith("-1/-1/") || was.equals("none") ? 0 : 1;
    }
    assertThat(figures).isGreaterThan(200);
  }

  static String fromBytes(byte[] a, int off, int len) {
    UsageFigures f = UsageFigures.read(a, off, len);
    return f == null ? "none" : f.in() + "/" + f.out() + "/" + f.noChoices();
  }

  @Test
  void readsTheSameFiguresFromBytesAsFromTheDecodedText() {
    // why: the meter reads lines where they lie, undecoded; a malformed byte (in content, in a
    // name, before a quote) must give what the decoded line gives, where it became U+FFFD, and a
    // name with one, once a name like it was seen, must not be read as that name
    List<byte[]> all = new ArrayList<>();
    for (String json : HAND) {
      all.add(json.getBytes(StandardCharsets.UTF_8));
    }
    all.add(bytes("{\"eval_count\":5}"));
    all.add(bytes("{\"eval_coun", 0xFF, "t\":9,\"prompt_eval_count\":2}"));
    all.add(bytes("{\"eval_count\":1,\"eval_coun", 0xC0, "t\":9}"));
    all.add(bytes("{\"message\":{\"content\":\"a", 0xC3, "\"},\"eval_count\":4}"));
    all.add(bytes("{\"message\":{\"content\":\"", 0xE2, 0x82, "\",\"x\":1},\"eval_count\":4}"));
    all.add(bytes("{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":", 0xF0, "1}}"));
    all.add(bytes("{\"usage\":{\"prompt_tokens\":3},\"c\":\"", 0xC0, 0xAF, "\"}"));
    all.add(bytes("{\"usage\":{\"prompt_tokens\":3},\"c\":\"", 0xED, 0xA0, 0x80, "\"}"));
    all.add(bytes("{\"choices\":[],\"usage\":{\"input_tokens\":2},\"", 0xFE, "\":1}"));
    // what Jackson would take for another encoding or skip as a byte-order mark
    all.add(bytes(0xEF, 0xBB, 0xBF, "{\"eval_count\":3}"));
    all.add(bytes(0xFE, 0xFF, 0, '{', 0, '"', 0, 'n', 0, '"', 0, ':', 0, '1', 0, '}'));
    all.add(utf16("{\"eval_count\":6}", false));
    all.add(utf16("{\"eval_count\":6}", true));
    all.add(bytes("{", 0, 0, 0, "\"eval_count\":7}"));
    all.add(bytes("{", 0, "\"eval_count\":7}"));
    all.add(bytes(" {\"eval_count\":8}"));
    all.add(bytes("\n{\"eval_count\":8}"));
    all.add(bytes("{}"));
    all.add(bytes("{"));
    Random r = new Random(7);
    for (int i = 0; i < 3000; i++) {
      StringBuilder b = new StringBuilder();
      object(r, b, 0);
      byte[] clean = b.toString().getBytes(StandardCharsets.UTF_8);
      byte[] bad = new byte[clean.length + 2];
      int at = r.nextInt(clean.length + 1);
      System.arraycopy(clean, 0, bad, 0, at);
      bad[at] = (byte) (0x80 + r.nextInt(0x80));
      bad[at + 1] = (byte) (r.nextBoolean() ? 0x80 + r.nextInt(0x40) : r.nextInt(0x80));
      System.arraycopy(clean, at, bad, at + 2, clean.length - at);
      all.add(clean);
      all.add(bad);
    }
    int figures = 0;
    for (byte[] a : all) {
      byte[] framed = new byte[a.length + 6]; // read where it lies, between other bytes
      System.arraycopy(a, 0, framed, 3, a.length);
      framed[0] = '{';
      framed[a.length + 3] = '}';
      String decoded = new String(a, StandardCharsets.UTF_8);
      String was = now(decoded);
      assertThat(fromBytes(framed, 3, a.length)).as(decoded).isEqualTo(was);
      figures += was.startsWith("-1/-1/") || was.equals("none") ? 0 : 1;
    }
    assertThat(figures).isGreaterThan(1000);
    byte[] forged = bytes("{\"eval_count\":1}{\"eval_cou", 0xFF, "nt\":9}");
    assertThat(fromBytes(forged, 0, 16)).isEqualTo("0/1/false");
    assertThat(fromBytes(forged, 16, forged.length - 16)).isEqualTo("-1/-1/false");
  }

  /** {@code text} in UTF-16, big- or little-endian, without a byte-order mark. */
  static byte[] utf16(String text, boolean little) {
    return text.getBytes(little ? StandardCharsets.UTF_16LE : StandardCharsets.UTF_16BE);
  }

  /** Text and single bytes (ints), in order. */
  static byte[] bytes(Object... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof String t) {
        out.writeBytes(t.getBytes(StandardCharsets.UTF_8));
      } else if (p instanceof Character c) {
        out.write(c);
      } else {
        out.write((Integer) p);
      }
    }
    return out.toByteArray();
  }
}
