package dev.gatehouse.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.exchange.JsonFields;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Fuzzes the JSON field reader the policy reads bodies with. Invariants: for any body that parses
 * as an object, a field the reader returns is the same node a plain reading of that exact name
 * gives; a body whose names differ only in case is flagged ambiguous (parsers disagree on which
 * wins, so the gateway refuses it); and the reader never throws.
 */
class JsonFieldsFuzzTest {

  static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  static final String[] NAMES = {
    "model", "messages", "prompt", "options", "max_tokens", "num_ctx", "tools", "stream"
  };

  @FuzzTest(maxDuration = "15s")
  void read(byte[] input) {
    check(new String(input, StandardCharsets.UTF_8));
  }

  static void check(String body) {
    JsonNode node;
    try {
      node = JSON.readTree(body);
    } catch (Exception e) {
      return; // refused by the body reader before any field is read
    }
    if (node == null || !node.isObject()) {
      return;
    }
    boolean ambiguous = JsonFields.hasAmbiguousNames(node);
    for (String name : NAMES) {
      // An independent reading of Go's folding for an ASCII field name: Java's per-character
      // case-insensitive match, which also folds KELVIN SIGN and LONG S, without the dotted and
      // dotless i that Java folds and Go does not.
      JsonNode only = null;
      int matches = 0;
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        String k = e.getKey();
        if (k.indexOf('\u0130') < 0 && k.indexOf('\u0131') < 0 && k.equalsIgnoreCase(name)) {
          matches++;
          only = e.getValue();
        }
      }
      if (matches > 1) {
        assertThat(ambiguous).as("%s twice in %s", name, body).isTrue();
      }
      if (!ambiguous) {
        assertThat(JsonFields.get(node, name)).as("%s in %s", name, body).isSameAs(only);
      }
    }
  }
}
