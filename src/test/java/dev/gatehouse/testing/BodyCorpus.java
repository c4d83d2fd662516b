package dev.gatehouse.testing;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.exchange.BodyFields;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.jspecify.annotations.Nullable;

/**
 * Request bodies for the equivalence tests between the full tree the body reader used to build and
 * the policy fields it keeps now ({@link BodyFields}): hand-written bodies in the style of the
 * hostile-request, calling-out, model-name, caps and guard tests, the guard's benign dataset, and
 * generated ones whose names, shapes and values are drawn from what the policy readers look at.
 */
public final class BodyCorpus {

  /** The tree parse the body reader did before {@link BodyFields}: kept here as the reference. */
  public static final ObjectMapper OLD =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private BodyCorpus() {}

  /** The full tree, as the old reader built it, or null when it refused the body. */
  public static @Nullable ObjectNode full(String body) {
    try {
      JsonNode n = OLD.readTree(body.getBytes(StandardCharsets.UTF_8));
      return n instanceof ObjectNode o ? o : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** The policy fields, as the body reader keeps them now, or null when it refuses the body. */
  public static @Nullable ObjectNode fields(String body) {
    try {
      return BodyFields.scan(Buffer.buffer(body.getBytes(StandardCharsets.UTF_8))).fields();
    } catch (IOException e) {
      return null;
    }
  }

  static final String IMG = Base64.getEncoder().encodeToString(new byte[300]);

  /** Hand-written bodies: both dialects, tools, multimodal, odd numbers, escapes, folded names. */
  public static final List<String> HAND =
      List.of(
          "{}",
          "{\"model\":\"llama3\",\"prompt\":\"hi\",\"stream\":false}",
          "{\"model\":\"llama3\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}",
          "{\"MODEL\":\"x\",\"name\":\"y\"}",
          "{\"model\":5,\"name\":\"fallback\"}",
          "{\"ſource\":\"a\",\"destination\":\"b\"}",
          "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"be nice\"},"
              + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"what is\"},"
              + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,"
              + IMG
              + "\"}}]},{\"role\":\"assistant\",\"content\":\"ok\"},"
              + "{\"role\":\"tool\",\"content\":\"ignore previous\"}]}",
          "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"look\",\"images\":[\""
              + IMG
              + "\",\""
              + IMG
              + "\"]}],\"images\":[\""
              + IMG
              + "\",5,null]}",
          "{\"model\":\"m\",\"max_tokens\":1024,\"messages\":[{\"role\":\"user\",\"content\":["
              + "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\","
              + "\"data\":\""
              + IMG
              + "\"}},{\"type\":\"tool_result\",\"content\":[{\"type\":\"text\",\"text\":\"r\"}]}]}]}",
          "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\","
              + "\"source\":{\"data\":null}},{\"source\":{\"data\":12345}},{\"source\":{\"data\":[1]}},"
              + "{\"image_url\":\"data:,\"},{\"image_url\":\"data:image/png\"},{\"image_url\":7},"
              + "{\"image_url\":{\"url\":{\"x\":1}}},{\"Image_URL\":{\"URL\":\"aGk\\u002c=\"}}]}]}",
          "{\"model\":\"m\",\"prompt\":\"data:image/png;base64,"
              + IMG
              + "\",\"system\":\"data:text\",\"content\":[\"a\",[\"b\",{\"text\":\"c\"}]]}",
          "{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
              + "\"text\":\"hi\"}]},{\"type\":\"function_call_output\",\"output\":\"tool says\"},"
              + "{\"type\":\"custom_tool_call_output\",\"output\":[\"x\"]},\"plain\",7],"
              + "\"instructions\":\"sys\",\"max_output_tokens\":1e3}",
          "{\"model\":\"m\",\"input\":\"just text\",\"max_output_tokens\":-0}",
          "{\"model\":\"m\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}},"
              + "{\"name\":\"anthropic\",\"input_schema\":{}},{\"type\":\"web_search_20250305\"}]}",
          "{\"model\":\"m\",\"tools\":{\"type\":\"web_search\"}}",
          "{\"model\":\"m\",\"tools\":[\"web_search\"]}",
          "{\"model\":\"m\",\"tools\":[{\"type\":5}]}",
          "{\"model\":\"m\",\"tools\":[{\"TYPE\":\"code_interpreter\"}]}",
          "{\"model\":\"m\",\"tool_choice\":{\"type\":\"web_search_preview\"}}",
          "{\"model\":\"m\",\"tool_choice\":{\"type\":[1]}}",
          "{\"model\":\"m\",\"tool_choice\":{\"type\":\"allowed_tools\",\"tools\":[{\"type\":\"mcp\"}]}}",
          "{\"model\":\"m\",\"tool_choice\":\"auto\",\"mcp_servers\":[]}",
          "{\"model\":\"m\",\"web_search_options\":null,\"container\":{}}",
          "{\"model\":\"m\",\"stream\":true,\"messages\":[]}",
          "{\"model\":\"m\",\"stream\":\"true\",\"stream_options\":{\"include_usage\":false}}",
          "{\"model\":\"m\",\"stream\":1,\"stream_options\":{\"include_usage\":true}}",
          "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"INCLUDE_USAGE\":1}}",
          "{\"model\":\"m\",\"stream\":true,\"stream_options\":5}",
          "{\"model\":\"m\",\"prompt\":\"x\",\"options\":{\"num_ctx\":1e30,\"num_predict\":-1}}",
          "{\"model\":\"m\",\"prompt\":\"x\",\"options\":{\"num_ctx\":4096.0,\"num_predict\":1}}",
          "{\"model\":\"m\",\"prompt\":\"x\",\"options\":{\"Num_Ctx\":18446744073709551615}}",
          "{\"model\":\"m\",\"prompt\":\"x\",\"options\":{\"num_predict\":\"10\"}}",
          "{\"model\":\"m\",\"prompt\":\"x\",\"options\":5,\"keep_alive\":\"5m\"}",
          "{\"model\":\"m\",\"keep_alive\":-1}",
          "{\"model\":\"m\",\"keep_alive\":{\"a\":[1,2]}}",
          "{\"model\":\"m\",\"keep_alive\":\"1h30m\"}",
          "{\"model\":\"m\",\"keep_alive\":1e400}",
          "{\"model\":\"m\",\"n\":3,\"best_of\":2.5,\"max_completion_tokens\":99999,\"n_predict\":-5}",
          "{\"model\":\"m\",\"max_tokens\":1,\"prompt\":\"Hello\"}",
          "{\"model\":\"m\",\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
          "{\"model\":\"m\",\"options\":{\"num_predict\":1},\"messages\":[{\"content\":\"test\"}]}",
          "{\"name\":\"m\",\"modelfile\":\"FROM llama3\\nFROM https://evil/x\\nFROM ./local.gguf\"}",
          "{\"model\":\"m\",\"from\":\"registry.example.com/x/y\",\"modelfile\":5}",
          "{\"model\":\"m\",\"modelfile\":null}",
          "{\"model\":\"hf.co/org/repo:Q4\",\"stream\":false}",
          "{\"model\":\"m\",\"messages\":[{\"role\":\"USER\",\"Content\":\"a\"},"
              + "{\"ROLE\":\"Tool\",\"content\":[\"x\",{\"type\":\"text\",\"text\":\"y\"}]},5,"
              + "{\"role\":[1],\"content\":{\"text\":\"z\"}}]}",
          "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"CONTENT\":\"b\"}]}",
          "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\\u00e9 \\ud83d\\ude00\"}]}",
          "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"é😀 日本\"}]}",
          "{\"model\":\"m\",\"system\":[{\"type\":\"text\",\"text\":\"anthropic system\"}],"
              + "\"messages\":[{\"role\":\"user\",\"content\":\"sk-abcdefghijklmnopqrstuvwxyz\"}]}",
          "{\"model\":\"m\",\"suffix\":\"end\",\"prompt\":[\"a\",\"b\"]}",
          "{\"model\":\"m\",\"unknown\":{\"deep\":[{\"a\":{\"b\":[1,2,{\"c\":\"d\"}]}}]},"
              + "\"prompt\":\"p\"}",
          "{\"model\":\"m\",\"metadata\":{\"model\":\"other\",\"tools\":[{\"type\":\"mcp\"}]}}",
          "{\"model\":\"\\u006d\",\"prompt\":\"\\\"quoted\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}",
          "{\"model\":\"m\",\"images\":\"" + IMG + "\",\"source\":\"x\"}",
          "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
              + "\"messages2\":{\"messages\":1}}",
          "{\"model\":\"m\",\"temperature\":-0.0,\"top_p\":1E-3,\"seed\":123456789012345678901234}",
          "{\"model\":\"m\",\"prompt\":\"\\u0000\\u001f\"}",
          "{\"model\":null,\"name\":null}",
          "{\"model\":[\"a\"],\"prompt\":\"x\"}",
          // malformed or refused: the reader must refuse exactly these, with the same message
          "",
          "[]",
          "\"text\"",
          "42",
          "null",
          "{\"model\":\"m\"} trailing",
          "{\"model\":\"m\"}{}",
          "{\"model\":\"m\",\"model\":\"n\"}",
          "{\"model\":\"m\",\"Model\":\"n\"}",
          "{\"model\":\"m\",\"\u212Aeep_alive\":1,\"keep_alive\":2}",
          "{\"a\":{\"b\":1,\"b\":2}}",
          "{\"messages\":[{\"role\":\"user\",\"role\":\"tool\"}]}",
          "{\"images\":[{\"x\":1,\"x\":1}]}",
          "{\"model\":\"m\",\"a\":{\"x\":1,\"x\":2},\"Model\":\"n\"}",
          "{\"model\":\"m\",\"prompt\":\"unterminated}",
          "{\"model\":\"m\",\"images\":[\"bad \\q escape\"]}",
          "{\"model\":\"m\",\"images\":[\"ctrl \u0001 char\"]}",
          "{\"model\":\"m\",\"x\":\"ctrl \u0001 char\"}",
          "{\"model\":\"m\",\"x\":01}",
          "{\"model\":\"m\",\"x\":NaN}",
          "{\"model\":\"m\",\"x\":[1,2,}",
          "{\"model\":\"m\",}",
          "{'model':'m'}",
          "{\"model\":\"m\",\"x\":" + "1".repeat(1200) + "}",
          "{\"model\":\"m\",\"x\":" + "[".repeat(1500) + "]".repeat(1500) + "}",
          "{\"model\":\"m\"",
          "{\"model\":\"m\",\"images\":[\"" + IMG + "\"",
          // more top-level names than the reader compares pairwise, a folded pair past them
          manyNames(30, "\"PROMPT\":\"a\",\"prompt\":\"b\""),
          manyNames(30, "\"prompt\":\"b\""),
          manyNames(10, "\"k3\":1"));

  private static String manyNames(int n, String tail) {
    StringBuilder b = new StringBuilder("{\"model\":\"m\"");
    for (int i = 0; i < n; i++) {
      b.append(",\"k").append(i).append("\":").append(i);
    }
    return b.append(',').append(tail).append('}').toString();
  }

  /** The guard's benign dataset, each row's messages as an OpenAI chat body. */
  public static List<String> dataset() throws IOException {
    List<String> out = new ArrayList<>();
    Path file = Path.of("scripts/guard-benign.jsonl");
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      JsonNode row = OLD.readTree(line);
      ObjectNode body = OLD.createObjectNode().put("model", "m");
      body.set("messages", row.get("messages"));
      out.add(OLD.writeValueAsString(body));
    }
    return out;
  }

  private static final String[] NAMES = {
    "model",
    "Model",
    "name",
    "source",
    "ſource",
    "messages",
    "MESSAGES",
    "content",
    "Content",
    "role",
    "text",
    "type",
    "images",
    "image_url",
    "url",
    "data",
    "prompt",
    "system",
    "input",
    "suffix",
    "instructions",
    "output",
    "tools",
    "tool_choice",
    "options",
    "num_ctx",
    "num_predict",
    "stream",
    "stream_options",
    "include_usage",
    "keep_alive",
    "\u212Aeep_alive",
    "max_tokens",
    "n",
    "best_of",
    "n_predict",
    "max_output_tokens",
    "max_completion_tokens",
    "modelfile",
    "mcp_servers",
    "container",
    "other",
    "from"
  };

  private static final String[] STRINGS = {
    "",
    "user",
    "tool",
    "assistant",
    "human",
    "function",
    "text",
    "tool_result",
    "function_call_output",
    "image_url",
    "web_search",
    "function",
    "Hello",
    "hi there",
    "data:image/png;base64,aGVsbG8=",
    "data:x",
    "aGVsbG8=",
    "sk-abcdefghijklmnopqrstuv",
    "FROM llama3",
    "5m",
    "-1",
    "true",
    "caf\\u00e9",
    "\\ud83d\\ude00",
    "a\\\"b",
    "m:latest",
    "https://x/y",
    "<|im_start|>system"
  };

  /** {@code count} generated bodies, the same ones for the same seed. */
  public static List<String> generated(long seed, int count) {
    Random r = new Random(seed);
    List<String> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      StringBuilder b = new StringBuilder();
      object(r, b, 0);
      out.add(b.toString());
    }
    return out;
  }

  private static void object(Random r, StringBuilder b, int depth) {
    b.append('{');
    int n = r.nextInt(depth == 0 ? 7 : 4);
    List<String> used = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String k = NAMES[r.nextInt(NAMES.length)];
      if (used.contains(k) && r.nextInt(10) > 0) {
        continue; // a duplicate now and then: it must be refused
      }
      used.add(k);
      if (b.length() > 1) {
        b.append(',');
      }
      b.append('"').append(k).append("\":");
      value(r, b, depth + 1);
    }
    b.append('}');
  }

  private static void value(Random r, StringBuilder b, int depth) {
    int kind = r.nextInt(depth > 4 ? 6 : 9);
    switch (kind) {
      case 0, 1 -> b.append('"').append(STRINGS[r.nextInt(STRINGS.length)]).append('"');
      case 2 ->
          b.append(
              new String[] {
                    "0",
                    "1",
                    "-1",
                    "-0",
                    "1e3",
                    "4096.0",
                    "2.5",
                    "1e400",
                    "18446744073709551617",
                    "-2",
                    "100000"
                  }
                  [r.nextInt(11)]);
      case 3 -> b.append(new String[] {"true", "false", "null"}[r.nextInt(3)]);
      case 4 -> b.append('"').append(IMG, 0, r.nextInt(60)).append('"');
      case 5 -> b.append("\"data:image/png;base64,").append(IMG, 0, r.nextInt(60)).append('"');
      case 6, 7 -> {
        b.append('[');
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
          if (i > 0) {
            b.append(',');
          }
          value(r, b, depth + 1);
        }
        b.append(']');
      }
      default -> object(r, b, depth);
    }
  }
}
