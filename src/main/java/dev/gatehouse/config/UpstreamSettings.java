package dev.gatehouse.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The model servers Gatehouse relays to ({@code upstreams}, or the single {@code upstream}) and how
 * a request is routed among them ({@code routing.*}): one entry per server, in the order given.
 * Built and checked by {@link #build}; see {@code docs/upstreams.md}. Immutable.
 *
 * @param entries at least one; names unique
 */
public record UpstreamSettings(List<UpstreamSettings.Entry> entries, Routing routing) {

  public UpstreamSettings {
    entries = List.copyOf(entries);
  }

  /** Which API an upstream speaks, for its health check and the routes it may serve. */
  public enum Kind {
    /** Learned from which model listing answers ({@code /api/tags}: Ollama, else OpenAI). */
    AUTO,
    OLLAMA,
    OPENAI
  }

  /** Whether a key's requests stick to one upstream ({@code routing.affinity}). */
  public enum Affinity {
    NONE,
    KEY
  }

  /**
   * One model server.
   *
   * @param name unique; the {@code upstream} label of its metrics (default host:port)
   * @param weight breaks ties between upstreams equally busy, and weighs the affinity hash (1-1000)
   * @param labels free-form, shown by the admin API
   * @param models globs over model names (as a key's allowlist): empty allows every model
   */
  public record Entry(
      String name,
      URI url,
      int weight,
      Map<String, String> labels,
      List<String> models,
      Kind kind) {
    public Entry {
      labels = Map.copyOf(labels);
      models = List.copyOf(models);
    }
  }

  /**
   * Routing among upstreams.
   *
   * @param ejectAfter consecutive failures that take an upstream out of rotation
   * @param ejectBase the first ejection's length; each further one in a row doubles it
   * @param ejectMax the longest an ejection lasts
   * @param modelsRefresh how often each upstream's model list is read again
   */
  public record Routing(
      Affinity affinity,
      int ejectAfter,
      Duration ejectBase,
      Duration ejectMax,
      Duration modelsRefresh) {}

  /** What a model glob may hold: the characters of a model name, and the wildcards. */
  private static final Pattern GLOB = Pattern.compile("[A-Za-z0-9._:/*?@-]+");

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:\\[\\]-]{1,64}");

  static UpstreamSettings build(SettingValues v, Problems p, URI single) {
    JsonNode list = v.mappings("upstreams");
    List<Entry> entries = new ArrayList<>();
    boolean singleGiven = !v.given("upstream", "\u0000").equals("\u0000");
    if (list.isEmpty()) {
      entries.add(new Entry(hostPort(single), single, 1, Map.of(), List.of(), Kind.AUTO));
    } else if (singleGiven) {
      p.add(
          "upstreams",
          "upstreams: "
              + list.size()
              + " entries (expected: either upstream or upstreams, not both)");
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      Entry e = entry(list.get(i), "upstreams[" + i + "]", p);
      if (e == null) {
        continue;
      }
      if (!names.add(e.name())) {
        p.add(
            "upstreams",
            "upstreams["
                + i
                + "].name: "
                + e.name()
                + " (expected: a name no other upstream has; give each a name)");
      }
      entries.add(e);
    }
    Affinity affinity = v.string("routing.affinity").equals("key") ? Affinity.KEY : Affinity.NONE;
    p.oneOf("routing.affinity", "none", "none or key", "none", "key");
    Routing r =
        new Routing(
            affinity,
            v.integer("routing.eject_after"),
            v.duration("routing.eject_base"),
            v.duration("routing.eject_max"),
            v.duration("routing.models_refresh"));
    p.range("routing.eject_after", r.ejectAfter(), 1, 1000, "1-1000");
    p.positive("routing.eject_base", r.ejectBase());
    p.positive("routing.models_refresh", r.modelsRefresh());
    if (r.ejectMax().compareTo(r.ejectBase()) < 0) {
      p.invalid("routing.eject_max", "a duration at least routing.eject_base");
    }
    return new UpstreamSettings(entries, r);
  }

  private static @Nullable Entry entry(JsonNode node, String at, Problems p) {
    if (!node.isObject()) {
      p.add(
          "upstreams",
          at
              + ": "
              + node
              + " (expected: a mapping with url, and optionally"
              + " name, weight, labels, models and kind)");
      return null;
    }
    boolean ok = true;
    for (Map.Entry<String, JsonNode> f : node.properties()) {
      if (!Set.of("url", "name", "weight", "labels", "models", "kind").contains(f.getKey())) {
        p.add(
            "upstreams",
            at
                + "."
                + f.getKey()
                + ": "
                + SettingValues.shown(f.getValue())
                + " (expected: one of url, name, weight, labels, models, kind)");
        ok = false;
      }
    }
    URI url = url(node.path("url"));
    if (url == null) {
      p.add(
          "upstreams",
          at
              + ".url: "
              + shown(node.path("url"))
              + " (expected: "
              + Setting.Kind.URL.expected
              + ")");
      ok = false;
    }
    String name = url == null ? "" : hostPort(url);
    if (node.has("name")) {
      name = node.path("name").asText("");
      if (!node.path("name").isValueNode() || !NAME.matcher(name).matches()) {
        p.add(
            "upstreams",
            at
                + ".name: "
                + shown(node.path("name"))
                + " (expected: 1-64 letters, digits and . _ : - [ ])");
        ok = false;
      }
    }
    int weight = 1;
    if (node.has("weight")) {
      JsonNode w = node.path("weight");
      weight = w.canConvertToInt() && w.isIntegralNumber() ? w.asInt() : -1;
      if (weight < 1 || weight > 1000) {
        p.add("upstreams", at + ".weight: " + shown(w) + " (expected: a whole number, 1-1000)");
        ok = false;
      }
    }
    Map<String, String> labels = new LinkedHashMap<>();
    if (node.has("labels")) {
      JsonNode l = node.path("labels");
      if (!l.isObject()) {
        p.add("upstreams", at + ".labels: " + shown(l) + " (expected: a mapping of strings)");
        ok = false;
      } else {
        for (Map.Entry<String, JsonNode> f : l.properties()) {
          if (!f.getValue().isValueNode() || f.getValue().isNull()) {
            p.add(
                "upstreams",
                at
                    + ".labels."
                    + f.getKey()
                    + ": "
                    + shown(f.getValue())
                    + " (expected: a string)");
            ok = false;
          } else {
            labels.put(f.getKey(), f.getValue().asText());
          }
        }
      }
    }
    List<String> models = new ArrayList<>();
    if (node.has("models")) {
      JsonNode m = node.path("models");
      List<JsonNode> items = new ArrayList<>();
      if (m.isArray()) {
        m.forEach(items::add);
      } else {
        items.add(m);
      }
      for (JsonNode g : items) {
        String glob = g.isTextual() ? g.asText().strip() : "";
        if (!GLOB.matcher(glob).matches()) {
          p.add(
              "upstreams",
              at
                  + ".models: "
                  + shown(g)
                  + " (expected: model-name globs, such as llama3* or qwen2.5:7b)");
          ok = false;
        } else {
          models.add(glob);
        }
      }
    }
    Kind kind = Kind.AUTO;
    if (node.has("kind")) {
      String k = node.path("kind").asText("").toLowerCase(Locale.ROOT);
      switch (k) {
        case "auto" -> kind = Kind.AUTO;
        case "ollama" -> kind = Kind.OLLAMA;
        case "openai" -> kind = Kind.OPENAI;
        default -> {
          p.add(
              "upstreams",
              at + ".kind: " + shown(node.path("kind")) + " (expected: auto, ollama or openai)");
          ok = false;
        }
      }
    }
    return ok && url != null ? new Entry(name, url, weight, labels, models, kind) : null;
  }

  private static String shown(JsonNode n) {
    return n.isMissingNode() ? "(missing)" : SettingValues.shown(n);
  }

  /** The default name: host:port as the URL gives them (the scheme's port when none). */
  static String hostPort(URI u) {
    int port = u.getPort() > 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    return u.getHost() + ":" + port;
  }

  private static @Nullable URI url(JsonNode n) {
    if (!n.isTextual()) {
      return null;
    }
    return ConfigLoader.upstreamUrl(n.asText().strip());
  }
}
