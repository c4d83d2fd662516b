package dev.gatehouse.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.Route;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * Trims model inventories to the models a key may use: Ollama's {@code /api/tags} and {@code
 * /api/ps} ({@code {"models":[{"name","model",...}]}}) and OpenAI's {@code /v1/models} ({@code
 * {"data":[{"id",...}]}}). A key limited to some models never learns the others exist.
 */
final class ModelListFilter {

  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelListFilter() {}

  /** The filtered body, or null when the upstream's body is not the expected shape. */
  static byte @Nullable [] filter(Route.Response kind, byte[] body, ModelGlobs globs) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      return null;
    }
    if (root == null || !root.isObject()) {
      return null;
    }
    String arrayField = kind == Route.Response.FILTER_OPENAI_MODELS ? "data" : "models";
    JsonNode list = root.get(arrayField);
    if (list == null || list.isNull()) {
      return body; // nothing listed, nothing to hide
    }
    if (!list.isArray()) {
      return null;
    }
    ArrayNode kept = JSON.createArrayNode();
    for (JsonNode item : list) {
      if (allowed(kind, item, globs)) {
        kept.add(item);
      }
    }
    ((ObjectNode) root).set(arrayField, kept);
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      return null;
    }
  }

  private static boolean allowed(Route.Response kind, JsonNode item, ModelGlobs globs) {
    if (kind == Route.Response.FILTER_OPENAI_MODELS) {
      JsonNode id = item.get("id");
      return id != null && id.isTextual() && globs.allows(id.asText());
    }
    // Ollama lists both "name" and "model"; both must be allowed so neither can smuggle a name.
    JsonNode name = item.get("name");
    JsonNode model = item.get("model");
    boolean any = false;
    for (JsonNode n : new JsonNode[] {name, model}) {
      if (n != null && n.isTextual()) {
        any = true;
        if (!globs.allows(n.asText())) {
          return false;
        }
      }
    }
    return any;
  }
}
