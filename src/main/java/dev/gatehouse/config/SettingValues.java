package dev.gatehouse.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The settings after conversion, each of its own type, with what the user wrote for each: the one
 * place a converted value is cast to its type, and the one place a problem's {@code path: value
 * [from ORIGIN]} is written. Built by {@link ConfigLoader} once every value converted; read by the
 * sections as they build themselves.
 */
final class SettingValues {

  /** A value as written (a YAML node, or the text of a variable or flag) and where it came from. */
  record Raw(@Nullable JsonNode node, @Nullable String text, @Nullable String origin) {}

  private final Map<String, Object> typed;
  private final Map<String, Raw> raw;

  SettingValues(Map<String, Object> typed, Map<String, Raw> raw) {
    this.typed = Map.copyOf(typed);
    this.raw = Map.copyOf(raw);
  }

  /**
   * These values with those of {@code keep} taken from {@code running} instead, as written there:
   * what a reload builds when some settings changed but apply only after a restart.
   */
  SettingValues with(SettingValues running, java.util.function.Predicate<String> keep) {
    Map<String, Object> t = new java.util.HashMap<>(typed);
    Map<String, Raw> r = new java.util.HashMap<>(raw);
    for (Setting s : Settings.ALL) {
      if (keep.test(s.path())) {
        t.put(
            s.path(),
            java.util.Objects.requireNonNull(
                running.typed.get(s.path()), "a loaded config has a value for every setting"));
        Raw old = running.raw.get(s.path());
        if (old == null) {
          r.remove(s.path());
        } else {
          r.put(s.path(), old);
        }
      }
    }
    return new SettingValues(t, r);
  }

  /** These values with {@code profile} set to {@code p}, as if the file said so. */
  SettingValues withProfile(GatehouseConfig.Profile p) {
    Map<String, Object> t = new java.util.HashMap<>(typed);
    Map<String, Raw> r = new java.util.HashMap<>(raw);
    String name = p.name().toLowerCase(java.util.Locale.ROOT);
    t.put("profile", name);
    r.put("profile", new Raw(null, name, null));
    return new SettingValues(t, r);
  }

  /** The converted value of the setting at {@code path}, for comparing two loads. */
  @Nullable Object value(String path) {
    return typed.get(path);
  }

  private <T> T get(String path, Class<T> type) {
    Object value = typed.get(path);
    if (value == null) {
      throw new IllegalArgumentException(
          "no setting " + path); // a typo in a section; any config test finds it
    }
    return type.cast(value);
  }

  /** An {@code INTEGER} setting. */
  int integer(String path) {
    return get(path, Integer.class);
  }

  /** A {@code SIZE} or {@code SIZE_OR_OFF} setting, in bytes (0 for off). */
  long size(String path) {
    return get(path, Long.class);
  }

  /**
   * A size kept in an int: past {@link Integer#MAX_VALUE} it stays there, which every range check
   * refuses.
   */
  int sizeAsInt(String path) {
    return (int) Math.min(Integer.MAX_VALUE, size(path));
  }

  /** A {@code DURATION} or {@code DURATION_OR_OFF} setting (zero for off). */
  Duration duration(String path) {
    return get(path, Duration.class);
  }

  /** A {@code BOOLEAN} setting. */
  boolean bool(String path) {
    return get(path, Boolean.class);
  }

  /** A {@code STRING} setting, trimmed. */
  String string(String path) {
    return get(path, String.class);
  }

  /** A {@code STRING_LIST} setting, each entry trimmed. */
  List<String> strings(String path) {
    List<?> list = get(path, List.class);
    return list.stream().map(String.class::cast).toList();
  }

  /**
   * A {@code MAPPING_LIST} setting: an array of whatever was written (each entry is checked by its
   * section).
   */
  JsonNode mappings(String path) {
    return get(path, JsonNode.class);
  }

  /** A {@code PATH} setting, or null when it is empty. */
  @Nullable Path path(String path) {
    Path p = get(path, Path.class);
    return p.toString().isEmpty() ? null : p;
  }

  /** A {@code HOST_PORT} setting, or a {@code HOST_PORT_OR_EMPTY} one (then null when empty). */
  @Nullable HostPort hostPort(String path) {
    return get(path, Object.class) instanceof HostPort hp ? hp : null;
  }

  /** A {@code URL} setting. */
  URI url(String path) {
    return get(path, URI.class);
  }

  /**
   * The text the user gave, before conversion: a YAML scalar's text as it stands, a variable or
   * flag trimmed; {@code otherwise} when the setting was not given. The choice checks read this, so
   * that a YAML {@code null} or a quoted value with spaces is refused as written.
   */
  String given(String path, String otherwise) {
    Raw r = raw.get(path);
    return r == null
        ? otherwise
        : r.node() != null
            ? r.node().asText()
            : Objects.requireNonNull(r.text(), "a Raw without a node has text").trim();
  }

  /**
   * {@code path: value [from ORIGIN]} for a problem: the value as the user wrote it, or {@code
   * shownIfDefault} when the setting was not given.
   */
  String describe(String path, String shownIfDefault) {
    return describe(path, raw.getOrDefault(path, new Raw(null, shownIfDefault, null)));
  }

  /**
   * {@code path: value [from ORIGIN]}, showing the converted value when the setting was not given.
   */
  String describe(String path) {
    return describe(path, String.valueOf(typed.get(path)));
  }

  static String describe(String path, Raw r) {
    String value =
        r.node() != null
            ? shown(r.node())
            : Objects.requireNonNull(r.text(), "a Raw without a node has text");
    String from = r.origin() == null ? "" : " [from " + r.origin() + "]";
    return path + ": " + (value.isEmpty() ? "(empty)" : value) + from;
  }

  static String shown(JsonNode node) {
    return node.isTextual() ? node.asText() : node.toString();
  }
}
