package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.testing.BodyCorpus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The byte splice limit.admit makes gives the upstream the same JSON as the full-tree rewrite it
 * replaces: for every body (generated Ollama and OpenAI shapes with odd whitespace, escaped and
 * non-ASCII names, every variant of options, stream_options, keep_alive and the token fields; and
 * the body corpus), route, caps mode and key cap where the caps or the usage request change the
 * body, the spliced body parses to the full-tree body's tree, scans to the same policy fields, and
 * keeps every member the change did not touch byte for byte. And a scan of the spliced body reads
 * exactly the edited copy of the policy fields the splice was made from, which limit.admit hands
 * the later readers instead of reading the body again.
 */
class SpliceEquivalenceTest {

  /** The outcome over a corpus: how many rewrites were spliced, and how many fell back. */
  private static final class Tally {
    int spliced;
    int fellBack;

    void add(SpliceCheck.Outcome o) {
      switch (o) {
        case SPLICED -> spliced++;
        case FELL_BACK -> fellBack++;
        case UNCHANGED -> {}
      }
    }
  }

  private static void compare(
      String text, List<String> untouched, String path, RequestCaps caps, Integer keyMax, Tally t)
      throws IOException {
    t.add(
        SpliceCheck.compare(text.getBytes(StandardCharsets.UTF_8), untouched, path, caps, keyMax));
  }

  @Test
  void theSpliceGivesTheUpstreamWhatTheFullTreeDid() throws IOException {
    Random r = new Random(20250412);
    Tally t = new Tally();
    for (int i = 0; i < 1500; i++) {
      List<String> untouched = new ArrayList<>();
      String text = generated(r, untouched);
      for (GatehouseConfig.Caps c : SpliceCheck.CAPS) {
        RequestCaps caps = new RequestCaps(c);
        for (String path : SpliceCheck.PATHS) {
          for (Integer keyMax : new Integer[] {null, 1}) {
            compare(text, untouched, path, caps, keyMax, t);
          }
        }
      }
    }
    System.out.printf("splice: %d rewrites spliced, %d fell back%n", t.spliced, t.fellBack);
    assertThat(t.spliced).isGreaterThan(20_000);
    // what falls back: a name that folds to one present ("NUM_PREDICT": null), an edit in an
    // object kept only as its kind; a small share of these generated bodies
    assertThat(t.fellBack).isLessThan(t.spliced / 10);
  }

  @Test
  void theSpliceMatchesOnTheBodyCorpusToo() throws IOException {
    // why: the corpus holds the odd shapes the policy readers were checked on (folded names,
    // huge numbers, containers where scalars go); whatever the splice accepts must match there too
    List<String> corpus = new ArrayList<>(BodyCorpus.HAND);
    corpus.addAll(BodyCorpus.generated(7, 2000));
    Tally t = new Tally();
    for (String text : corpus) {
      for (GatehouseConfig.Caps c : SpliceCheck.CAPS) {
        RequestCaps caps = new RequestCaps(c);
        for (String path : SpliceCheck.PATHS) {
          compare(text, List.of(), path, caps, null, t);
        }
      }
    }
    System.out.printf("splice (corpus): %d spliced, %d fell back%n", t.spliced, t.fellBack);
    assertThat(t.spliced).isGreaterThan(1000);
  }

  // ---- the generator: request bodies as clients send them, token by token

  static final String IMG = Base64.getEncoder().encodeToString(new byte[3000]);

  private static String ws(Random r) {
    return new String[] {"", "", "", " ", "  ", "\n", "\t", "\r\n  ", " \n\t "}[r.nextInt(9)];
  }

  private static <T> T pick(Random r, T[] from) {
    return from[r.nextInt(from.length)];
  }

  /** A name as the body spells it: plain, or one of its escaped spellings. */
  private static String name(Random r, String name) {
    if (r.nextInt(8) > 0) {
      return '"' + name + '"';
    }
    int i = r.nextInt(name.length());
    return '"'
        + name.substring(0, i)
        + String.format("\\u%04x", (int) name.charAt(i))
        + name.substring(i + 1)
        + '"';
  }

  private static String member(Random r, String name, String value) {
    return name(r, name) + ws(r) + ":" + ws(r) + value;
  }

  private static String object(Random r, List<String> members) {
    StringBuilder b = new StringBuilder("{").append(ws(r));
    for (int i = 0; i < members.size(); i++) {
      if (i > 0) {
        b.append(ws(r)).append(',').append(ws(r));
      }
      b.append(members.get(i));
    }
    return b.append(ws(r)).append('}').toString();
  }

  static final String[] NUMBERS = {
    "10",
    "99999",
    "-1",
    "-2",
    "4096.0",
    "1e3",
    "0",
    "-0",
    "2.5",
    "\"10\"",
    "null",
    "true",
    "18446744073709551617",
    "100",
    "100.0",
    "1E2"
  };

  static final String[] TEXT = {
    "\"hi\"",
    "\"caf\\u00e9 \\ud83d\\ude00\"",
    "\"é😀 日本\"",
    "\"a \\\"quoted\\\" \\\\ line\\nbreak\"",
    "\"\\/\\b\\f\\r\\t\""
  };

  private static String options(Random r) {
    List<String> m = new ArrayList<>();
    int n = r.nextInt(5);
    List<String> used = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String k =
          pick(
              r,
              new String[] {
                "num_predict",
                "num_ctx",
                "temperature",
                "stop",
                "NUM_PREDICT",
                "Num_Ctx",
                "seed",
                "nested",
                "num_pred\u0131ct" // dotless i: Java's equalsIgnoreCase matches it, Go's folding
                // not
              });
      if (used.stream()
          .anyMatch(u -> u.toLowerCase(Locale.ROOT).equals(k.toLowerCase(Locale.ROOT)))) {
        continue; // one spelling of each: two that fold together would be read either way
      }
      used.add(k);
      String v =
          switch (k) {
            case "temperature" -> "0.7";
            case "stop" -> "[" + ws(r) + "\"\\n\"" + ws(r) + "]";
            case "seed" -> "42";
            case "nested" -> "{\"a\":{\"b\":[1,{}]}}";
            default -> pick(r, NUMBERS);
          };
      m.add(member(r, k, v));
    }
    return object(r, m);
  }

  /** One body; the member texts the caps never change are added to {@code untouched}. */
  static String generated(Random r, List<String> untouched) {
    List<String> m = new ArrayList<>();
    List<String> kept = new ArrayList<>();
    kept.add(member(r, "model", pick(r, new String[] {"\"llama3.2:3b\"", "\"gpt-4o\"", "\"m\""})));
    if (r.nextBoolean()) {
      String image =
          r.nextBoolean() ? "" : ",\"images\":[" + ws(r) + "\"" + IMG + "\"" + ws(r) + "]";
      String content =
          r.nextInt(3) == 0
              ? "[{\"type\":\"text\",\"text\":"
                  + pick(r, TEXT)
                  + "},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,"
                  + IMG
                  + "\"}}]"
              : pick(r, TEXT);
      kept.add(
          member(
              r,
              "messages",
              "["
                  + ws(r)
                  + "{\"role\":\"user\","
                  + ws(r)
                  + "\"content\":"
                  + content
                  + image
                  + "}"
                  + ws(r)
                  + "]"));
    } else {
      kept.add(member(r, "prompt", pick(r, TEXT)));
    }
    if (r.nextInt(3) == 0) {
      kept.add(member(r, "images", "[\"" + IMG + "\"]"));
    }
    if (r.nextInt(3) == 0) {
      kept.add(
          member(
              r,
              pick(r, new String[] {"naïve", "日本", "format", "response_format", "x\\ty"}),
              "{\"type\":\"json_schema\",\"deep\":[{\"a\":" + pick(r, TEXT) + "}]}"));
    }
    m.addAll(kept);
    untouched.addAll(kept);
    switch (r.nextInt(6)) {
      case 0, 1 -> {} // no options: the common Ollama request
      case 2 -> m.add(member(r, "options", options(r)));
      case 3 -> m.add(member(r, "options", "{" + ws(r) + "}"));
      default ->
          m.add(member(r, "options", pick(r, new String[] {"5", "\"x\"", "[]", "null", "[1]"})));
    }
    if (r.nextBoolean()) {
      m.add(member(r, "stream", pick(r, new String[] {"true", "false", "\"true\"", "1", "null"})));
    }
    if (r.nextBoolean()) {
      m.add(
          member(
              r,
              "stream_options",
              pick(
                  r,
                  new String[] {
                    "{}",
                    "{\"include_usage\":false}",
                    "{ \"include_usage\" : true }",
                    "{\"INCLUDE_USAGE\":true}",
                    "{\"include_usage\":\"yes\"}",
                    "{\"other\":{\"x\":1}}",
                    "5",
                    "null"
                  })));
    }
    if (r.nextInt(6) == 0) {
      m.add(member(r, "keep_al\u0131ve", "1")); // read by neither the caps nor Ollama
    }
    if (r.nextInt(3) == 0) {
      m.add(
          member(
              r,
              "keep_alive",
              pick(r, new String[] {"\"5m\"", "-1", "\"1h\"", "300", "\"-1s\"", "null", "1e3"})));
    }
    for (String f :
        new String[] {
          "max_tokens", "max_completion_tokens", "n", "n_predict", "max_output_tokens"
        }) {
      if (r.nextInt(4) == 0) {
        m.add(member(r, f, pick(r, NUMBERS)));
      }
    }
    java.util.Collections.shuffle(m, r);
    return object(r, m);
  }
}
