package dev.gatehouse.guard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.gatehouse.exchange.JsonFields;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Finds the text a user or a tool put into a request body, per endpoint, as slots that can be read
 * and, for redaction, replaced in place (the body keeps its field order):
 *
 * <ul>
 *   <li>Ollama {@code /api/chat}, OpenAI {@code /v1/chat/completions}, Anthropic {@code
 *       /v1/messages}: {@code messages[].content}, a string or an array of parts ({@code text}, and
 *       the nested {@code content} of a {@code tool_result} part);
 *   <li>Ollama {@code /api/generate}: {@code prompt} (user) and {@code system};
 *   <li>OpenAI {@code /v1/completions}, llama.cpp {@code /completion}: {@code prompt}, a string or
 *       an array of strings;
 *   <li>OpenAI {@code /v1/responses}: {@code input}, a string or items (messages with content
 *       parts, and {@code function_call_output} items, which are tool results).
 * </ul>
 *
 * <p>Field names are matched as the model servers match them ({@link JsonFields}). Stateless.
 */
public final class PromptText {

  private PromptText() {}

  /** The default of guard.max_bytes: text inspected per request, in characters. */
  public static final int DEFAULT_MAX_CHARS = 32 * 1024;

  /** Who wrote a slot's text. */
  public enum Source {
    USER,
    TOOL,
    OTHER
  }

  /** Which slots the guard inspects ({@code guard.scope}). */
  public enum Scope {
    /**
     * The last user message and every tool result (the default: indirect injection comes through
     * tools).
     */
    LAST_USER_AND_TOOLS("last_user_and_tools"),
    /** Every user message and every tool result. */
    USER_AND_TOOLS("user_and_tools"),
    /** Every text, system and assistant turns included. */
    ALL("all");

    public final String code;

    Scope(String code) {
      this.code = code;
    }

    /** The scope named {@code code}, or null. */
    public static @Nullable Scope of(String code) {
      for (Scope s : values()) {
        if (s.code.equals(code)) {
          return s;
        }
      }
      return null;
    }
  }

  /**
   * One string value in the body: its container, and the field name or array index it sits at.
   *
   * @param message the index of the message or item it belongs to, or -1
   */
  public record Slot(
      JsonNode parent, @Nullable String field, int index, String text, Source source, int message) {

    /** Replaces the string in the body, in place. */
    public void replace(String text) {
      if (parent instanceof ObjectNode o) {
        o.set(field, TextNode.valueOf(text));
      } else if (parent instanceof ArrayNode a) {
        a.set(index, TextNode.valueOf(text));
      }
    }
  }

  /** Every text slot of the body for this path, whoever wrote it, in body order. */
  public static List<Slot> all(String path, JsonNode body) {
    List<Slot> out = new ArrayList<>();
    if (!(body instanceof ObjectNode o)) {
      return out;
    }
    switch (path) {
      case "/api/generate" -> {
        field(o, "prompt", Source.USER, -1, out);
        field(
            o, "system", Source.USER, -1, out); // set by whoever sends the request, like the prompt
        field(o, "suffix", Source.USER, -1, out);
      }
      case "/v1/completions", "/completion", "/completions", "/infill" -> {
        field(o, "prompt", Source.USER, -1, out);
        field(o, "suffix", Source.USER, -1, out);
      }
      case "/v1/responses" -> {
        field(o, "instructions", Source.OTHER, -1, out);
        responsesInput(o, out);
      }
      default -> { // /api/chat, /v1/chat/completions, /v1/messages, /chat/completions
        field(o, "system", Source.OTHER, -1, out); // Anthropic's top-level system prompt
        messages(JsonFields.get(o, "messages"), out);
      }
    }
    return out;
  }

  /** The slots within {@code scope}. */
  public static List<Slot> inScope(String path, JsonNode body, Scope scope) {
    List<Slot> all = all(path, body);
    if (scope == Scope.ALL) {
      return all;
    }
    int lastUser = -1;
    for (Slot s : all) {
      if (s.source == Source.USER) {
        lastUser = Math.max(lastUser, s.message);
      }
    }
    List<Slot> out = new ArrayList<>();
    for (Slot s : all) {
      boolean keep =
          switch (s.source) {
            case TOOL -> true;
            case USER -> scope == Scope.USER_AND_TOOLS || s.message == lastUser;
            case OTHER -> false;
          };
      if (keep) {
        out.add(s);
      }
    }
    return out;
  }

  private static void field(ObjectNode o, String name, Source source, int message, List<Slot> out) {
    String exact = exactName(o, name);
    if (exact == null) {
      return;
    }
    JsonNode v = o.get(exact);
    if (v.isTextual()) {
      out.add(new Slot(o, exact, -1, v.textValue(), source, message));
    } else if (v.isArray()) {
      parts(v, source, message, out);
    }
  }

  /** The name as the body spells it of the field that {@link JsonFields#get} reads, or null. */
  @SuppressWarnings("ReferenceEquality") // the very node found, not an equal one elsewhere
  private static @Nullable String exactName(ObjectNode o, String name) {
    if (o.has(name)) {
      return name;
    }
    JsonNode v = JsonFields.get(o, name);
    if (v == null) {
      return null;
    }
    for (var e : o.properties()) {
      if (e.getValue() == v) {
        return e.getKey();
      }
    }
    return null;
  }

  private static void messages(@Nullable JsonNode messages, List<Slot> out) {
    if (messages == null || !messages.isArray()) {
      return;
    }
    for (int i = 0; i < messages.size(); i++) {
      if (messages.get(i) instanceof ObjectNode m) {
        field(m, "content", role(m), i, out);
      }
    }
  }

  private static Source role(ObjectNode m) {
    JsonNode r = JsonFields.get(m, "role");
    String role = r == null ? "" : r.asText().toLowerCase(java.util.Locale.ROOT);
    return switch (role) {
      case "user", "human" -> Source.USER;
      case "tool", "function", "ipython", "tool_result" -> Source.TOOL;
      default -> Source.OTHER;
    };
  }

  /** Content parts: strings, {@code text} parts, and {@code tool_result} parts (tool text). */
  private static void parts(JsonNode array, Source source, int message, List<Slot> out) {
    for (int i = 0; i < array.size(); i++) {
      JsonNode part = array.get(i);
      if (part.isTextual()) {
        out.add(new Slot(array, null, i, part.textValue(), source, message));
      } else if (part instanceof ObjectNode p) {
        JsonNode type = JsonFields.get(p, "type");
        String t = type == null ? "" : type.asText();
        if (t.equals("tool_result") || t.equals("function_call_output")) {
          field(p, "content", Source.TOOL, message, out);
          field(p, "output", Source.TOOL, message, out);
        } else {
          field(p, "text", source, message, out);
        }
      }
    }
  }

  private static void responsesInput(ObjectNode o, List<Slot> out) {
    String exact = exactName(o, "input");
    if (exact == null) {
      return;
    }
    JsonNode input = o.get(exact);
    if (input.isTextual()) {
      out.add(new Slot(o, exact, -1, input.textValue(), Source.USER, 0));
      return;
    }
    if (!input.isArray()) {
      return;
    }
    for (int i = 0; i < input.size(); i++) {
      JsonNode item = input.get(i);
      if (item.isTextual()) {
        out.add(new Slot(input, null, i, item.textValue(), Source.USER, i));
      } else if (item instanceof ObjectNode m) {
        JsonNode type = JsonFields.get(m, "type");
        String t = type == null ? "" : type.asText();
        if (t.equals("function_call_output") || t.equals("custom_tool_call_output")) {
          field(m, "output", Source.TOOL, i, out);
        } else if (JsonFields.get(m, "role") != null) {
          field(m, "content", role(m), i, out);
        }
      }
    }
  }

  /**
   * The texts of the slots in scope, newest first, within {@code maxChars} in all. A text longer
   * than what is left of the budget is inspected by its head and its tail, where instructions
   * usually sit; the middle of a very long text goes unread (an attacker who pads a prompt past
   * guard.max_bytes must then put the payload in the middle).
   */
  public static List<String> texts(List<Slot> slots, int maxChars) {
    List<String> out = new ArrayList<>(slots.size());
    int budget = maxChars;
    for (int i = slots.size() - 1; i >= 0 && budget > 0; i--) {
      String t = slots.get(i).text();
      if (t.isEmpty()) {
        continue;
      }
      if (t.length() <= budget) {
        out.add(t);
        budget -= t.length();
      } else {
        int head = budget / 2;
        int tail = budget - head;
        out.add(t.substring(0, head) + "\n" + t.substring(t.length() - tail));
        budget = 0;
      }
    }
    return out;
  }
}
