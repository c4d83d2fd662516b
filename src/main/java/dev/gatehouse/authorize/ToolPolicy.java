package dev.gatehouse.authorize;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.exchange.JsonFields;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Tools that call out to other services belong to the {@code cloud} class. Ollama runs web search
 * and web fetch on ollama.com, under the server owner's account, when a request carries such a tool
 * ({@code /v1/responses} {@code {"type":"web_search"}}, a {@code /v1/messages} tool whose type
 * starts with {@code web_search}), even for a local model, through a loopback call that never
 * passes the gateway; other servers add code interpreters, remote MCP servers, computer use and
 * file search over remote stores.
 *
 * <p>The rule is general rather than a list of bad names: a tool object with a {@code type} that is
 * not one of the purely local types the client itself executes ({@code function}, {@code custom};
 * an Anthropic custom tool has no type at all) is refused with 403 {@code policy.tool_denied}
 * unless the key holds the {@code cloud} scope. So are the fields that turn on server-side tools
 * without a tool object: Anthropic's {@code mcp_servers} and {@code container}, Chat Completions'
 * {@code web_search_options}, and a {@code tool_choice} that forces a built-in tool. A malformed
 * {@code tools} value is 400. Its own code, rather than the cloud-model code, so that clients and
 * alert rules can tell a tool from a model. Stateless.
 */
final class ToolPolicy {

  /** Tool types that the client executes itself: the model only emits calls for them. */
  static final Set<String> LOCAL_TYPES = Set.of("function", "custom");

  /** tool_choice types that only select among the request's own tools. */
  static final Set<String> LOCAL_CHOICES =
      Set.of("function", "custom", "allowed_tools", "auto", "any", "tool", "none", "required");

  /** Top-level fields that switch on server-side tools by themselves. */
  static final Set<String> CALLING_OUT_FIELDS =
      Set.of("mcp_servers", "web_search_options", "container");

  private ToolPolicy() {}

  /** Null when the body's tools may be used by this key. */
  static @Nullable Rejection check(boolean cloudScope, JsonNode json) {
    if (json == null || !json.isObject()) {
      return null;
    }
    Rejection shape = tools(JsonFields.get(json, "tools"), cloudScope);
    if (shape != null) {
      return shape;
    }
    JsonNode choice = JsonFields.get(json, "tool_choice");
    if (choice != null && choice.isObject()) {
      JsonNode type = JsonFields.get(choice, "type");
      if (type != null
          && !type.isNull()
          && !(type.isTextual() && LOCAL_CHOICES.contains(type.asText()))) {
        return cloudScope
            ? null
            : denied("tool_choice forces a built-in tool (" + clip(type) + ")");
      }
      Rejection nested = tools(JsonFields.get(choice, "tools"), cloudScope); // allowed_tools
      if (nested != null) {
        return nested;
      }
    }
    if (!cloudScope) {
      for (String field : CALLING_OUT_FIELDS) {
        JsonNode v = JsonFields.get(json, field);
        if (v != null && !v.isNull()) {
          return denied(field + " runs tools on another service");
        }
      }
    }
    return null;
  }

  private static @Nullable Rejection tools(@Nullable JsonNode tools, boolean cloudScope) {
    if (tools == null || tools.isNull()) {
      return null;
    }
    if (!tools.isArray()) {
      return Rejection.of(Problem.BODY_INVALID_JSON, "tools must be an array");
    }
    for (JsonNode tool : tools) {
      if (!tool.isObject()) {
        return Rejection.of(Problem.BODY_INVALID_JSON, "each tool must be an object");
      }
      JsonNode type = JsonFields.get(tool, "type");
      if (type == null || type.isNull()) {
        continue; // an Anthropic custom tool: name, description, input_schema
      }
      if (!type.isTextual()) {
        return Rejection.of(Problem.BODY_INVALID_JSON, "a tool's type must be a string");
      }
      if (!LOCAL_TYPES.contains(type.asText()) && !cloudScope) {
        return denied("tool type " + clip(type) + " calls out to another service");
      }
    }
    return null;
  }

  private static Rejection denied(String why) {
    return Rejection.of(Problem.TOOL_DENIED, why + "; it needs the cloud scope");
  }

  /** A tool type for a message: printable ASCII only, at most 40 characters. */
  private static String clip(JsonNode type) {
    String t =
        type.isTextual()
            ? type.asText()
            : type.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < t.length() && b.length() < 40; i++) {
      char c = t.charAt(i);
      b.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return b.toString();
  }
}
