package dev.gatehouse.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads request-body fields the way the model servers do. Ollama (Go's encoding/json) matches field
 * names case-insensitively, with Unicode folding ({@code "Model"}, {@code "MODEL"} and {@code
 * "\u017Fource"} all reach a field named model or source), and lets the last match win. So a
 * gateway that looked only at the exact name {@code model} could be handed a second, differently
 * cased one that the server would use instead. Here every lookup folds names the same way, and a
 * body in which two top-level names fold together is refused as ambiguous.
 */
public final class JsonFields {

  private JsonFields() {}

  /**
   * Folds a field name as Go's {@code strings.EqualFold} would for our all-ASCII field names: ASCII
   * case, plus the two non-ASCII letters that fold to ASCII (KELVIN SIGN to k, LONG S to s).
   */
  static String fold(String name) {
    StringBuilder b = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      b.append(fold(name.charAt(i)));
    }
    return b.toString();
  }

  private static char fold(char c) {
    if (c >= 'A' && c <= 'Z') {
      return (char) (c + 32);
    }
    return c == '\u212A' ? 'k' : c == '\u017F' ? 's' : c;
  }

  /** True when {@code key} folds to {@code name} (already folded); allocates nothing. */
  static boolean foldsTo(String key, String name) {
    if (key.length() != name.length()) {
      return false; // folding maps one char to one char
    }
    for (int i = 0; i < key.length(); i++) {
      if (fold(key.charAt(i)) != name.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** True when {@code a} and {@code b} fold to the same name; allocates nothing. */
  static boolean sameFold(String a, String b) {
    if (a.length() != b.length()) {
      return false;
    }
    for (int i = 0; i < a.length(); i++) {
      if (fold(a.charAt(i)) != fold(b.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** True when two top-level names of this object fold to the same name. */
  public static boolean hasAmbiguousNames(JsonNode object) {
    Set<String> seen = new HashSet<>();
    for (Map.Entry<String, JsonNode> e : object.properties()) {
      if (!seen.add(fold(e.getKey()))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The name of the field {@link #get} reads for {@code name}: the exact name when present, else
   * the first that folds to it; {@code name} itself when none does. A change to what was read must
   * go to this field, not to another whose name matches more loosely.
   */
  public static String nameOf(JsonNode object, String name) {
    if (object.has(name)) {
      return name;
    }
    for (Map.Entry<String, JsonNode> e : object.properties()) {
      if (foldsTo(e.getKey(), name)) {
        return e.getKey();
      }
    }
    return name;
  }

  /** The value of the top-level field whose name folds to {@code name}, or null. */
  public static @Nullable JsonNode get(JsonNode object, String name) {
    JsonNode exact = object.get(name);
    if (exact != null) {
      return exact;
    }
    for (Map.Entry<String, JsonNode> e : object.properties()) {
      if (foldsTo(e.getKey(), name)) {
        return e.getValue();
      }
    }
    return null;
  }
}
