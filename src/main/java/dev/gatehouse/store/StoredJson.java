package dev.gatehouse.store;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The JSON text columns of the stores' rows (a key's lists and limits, a ban's reasons), read from
 * Jackson's tree rather than by its data binding. Both stores write them with Jackson ({@link
 * ObjectMapper#writeValueAsString}); reading them back by data binding made Jackson build a
 * deserializer for {@link KeyLimits} from its record, annotations and naming on the first key read
 * of every start: 20-30 ms of the main thread before the gateway could listen, against a few for
 * the tree. Stricter than data binding, which coerces: a value of the wrong type, a fraction, a
 * number out of range or a field that {@link KeyLimits} does not have is refused, and the row
 * reported as corrupt.
 */
final class StoredJson {

  private StoredJson() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A JSON array of strings. */
  static List<String> strings(String text) throws JsonProcessingException {
    JsonNode n = JSON.readTree(text);
    if (n == null || !n.isArray()) {
      throw refused("a list of strings", text);
    }
    List<String> out = new ArrayList<>(n.size());
    for (JsonNode e : n) {
      if (!e.isTextual()) {
        throw refused("a list of strings", text);
      }
      out.add(e.textValue());
    }
    return List.copyOf(out);
  }

  /** A key's limits as {@link KeyLimits} is written: snake_case names, null ones left out. */
  static KeyLimits limits(String text) throws JsonProcessingException {
    JsonNode n = JSON.readTree(text);
    if (n == null || !n.isObject()) {
      throw refused("key limits", text);
    }
    Integer rpm = null;
    Integer burst = null;
    Long tokensPerMinute = null;
    Long tokensPerDay = null;
    Integer concurrency = null;
    Integer maxOutputTokens = null;
    for (Map.Entry<String, JsonNode> f : n.properties()) {
      JsonNode v = f.getValue();
      switch (f.getKey()) {
        case "rpm" -> rpm = integer(v, text);
        case "burst" -> burst = integer(v, text);
        case "tokens_per_minute" -> tokensPerMinute = whole(v, text);
        case "tokens_per_day" -> tokensPerDay = whole(v, text);
        case "concurrency" -> concurrency = integer(v, text);
        case "max_output_tokens" -> maxOutputTokens = integer(v, text);
        default -> throw refused("key limits (no field " + f.getKey() + ")", text);
      }
    }
    return new KeyLimits(rpm, burst, tokensPerMinute, tokensPerDay, concurrency, maxOutputTokens);
  }

  private static @Nullable Integer integer(JsonNode v, String text) throws JsonParseException {
    if (v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw refused("key limits (a whole number up to 2^31-1)", text);
    }
    return v.intValue();
  }

  private static @Nullable Long whole(JsonNode v, String text) throws JsonParseException {
    if (v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw refused("key limits (a whole number up to 2^63-1)", text);
    }
    return v.longValue();
  }

  private static JsonParseException refused(String what, String text) {
    return new JsonParseException(
        null, "not " + what + ": " + (text.length() > 80 ? text.substring(0, 80) + "..." : text));
  }
}
