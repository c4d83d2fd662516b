package dev.gatehouse.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gatehouse.config.GatehouseConfig.IoTransport;
import dev.gatehouse.config.GatehouseConfig.Profile;
import dev.gatehouse.config.Setting.Kind;
import dev.gatehouse.config.SettingValues.Raw;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Loads configuration from defaults, then {@code gatehouse.yaml}, then {@code GATEHOUSE_*}
 * environment variables, then command-line flags (each layer overrides the one before), and
 * validates it all at once: every problem is collected and reported together, as {@code path: value
 * (expected: ...)}.
 *
 * <p>Two steps: each value is converted to its kind ({@link Setting.Kind}), and if any cannot be,
 * those problems alone are reported; then each section of {@link GatehouseConfig} builds itself
 * from the converted values and checks its own settings ({@code ServerSections}, {@code
 * LimitSections}, {@code AbuseSections}, {@code PolicySections}, {@code AlertAndAuditSections}),
 * {@code CrossSectionChecks} checks what needs two sections, and the features' {@link ConfigCheck}s
 * check the settings whose syntax they parse. All of these report into one {@link Problems}.
 */
public final class ConfigLoader {

  /**
   * Environment variables that belong to the launcher or the CLI, not to a setting ({@code
   * GATEHOUSE_ADMIN_TOKEN}: the CLI's admin API token; {@code GATEHOUSE_ARCHIVE_PENDING}: the
   * launcher's class-data archive stamp, {@code cli.ArchiveStamp}).
   */
  private static final Set<String> RESERVED_ENV =
      Set.of(
          "GATEHOUSE_CONFIG",
          "GATEHOUSE_JAVA_OPTS",
          "GATEHOUSE_JAVA",
          "GATEHOUSE_ADMIN_TOKEN",
          "GATEHOUSE_ARCHIVE_PENDING");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private ConfigLoader() {}

  /**
   * Loads and validates.
   *
   * @param file the YAML file, or null for none
   * @param explicit true when the user named the file (then it must exist)
   * @param env the process environment
   * @param flags command-line overrides by setting path
   * @param checks the features' own checks, run once every section is built (the composition root's
   *     one list, so that serve, each command and the tests check alike)
   */
  public static GatehouseConfig load(
      @Nullable Path file,
      boolean explicit,
      Map<String, String> env,
      Map<String, String> flags,
      List<ConfigCheck> checks)
      throws ConfigException {
    String source = file == null ? "defaults" : file.toString();
    List<String> problems = new ArrayList<>();
    Map<String, Raw> raw = new LinkedHashMap<>();

    if (file != null && Files.exists(file)) {
      readYaml(file, raw, problems);
    } else if (file != null && explicit) {
      problems.add("--config: " + file + " (expected: an existing, readable YAML file)");
    }
    for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
      String name = e.getKey();
      if (!name.startsWith("GATEHOUSE_") || RESERVED_ENV.contains(name)) {
        continue;
      }
      Setting s = byEnv(name);
      if (s == null) {
        problems.add(
            name
                + ": "
                + e.getValue()
                + " (expected: a variable named after a setting, such as GATEHOUSE_LISTEN; see docs/configuration.md)");
      } else {
        raw.put(s.path(), new Raw(null, e.getValue(), name));
      }
    }
    flags.forEach(
        (path, value) -> raw.put(path, new Raw(null, value, "--" + path.replace('_', '-'))));

    Map<String, Object> typed = new LinkedHashMap<>();
    for (Setting s : Settings.ALL) {
      Raw r = raw.getOrDefault(s.path(), new Raw(null, s.defaultValue(), null));
      Object value = convert(s, r);
      if (value == null) {
        problems.add(
            SettingValues.describe(s.path(), r) + " (expected: " + s.kind().expected + ")");
      } else {
        typed.put(s.path(), value);
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(source, problems); // typed values are incomplete; stop here
    }
    return validated(source, new SettingValues(typed, raw), checks, true);
  }

  /**
   * As {@link #load}, but a {@code profile: prod} config that falls short of prod still loads: for
   * {@code doctor}, which reports each gap as a finding with its fix ({@link ProfileSection#gaps})
   * instead of stopping at them. Never for serving.
   */
  public static GatehouseConfig loadForAudit(
      @Nullable Path file,
      boolean explicit,
      Map<String, String> env,
      Map<String, String> flags,
      List<ConfigCheck> checks)
      throws ConfigException {
    try {
      return load(file, explicit, env, flags, checks);
    } catch (ConfigException e) {
      if (e.problems().stream().anyMatch(line -> line.startsWith("profile:"))) {
        throw e; // the profile's own value is wrong: nothing to audit it against
      }
      Map<String, String> dev = new LinkedHashMap<>(flags);
      dev.put("profile", "dev");
      GatehouseConfig asDev;
      try {
        asDev = load(file, explicit, env, dev, checks);
      } catch (ConfigException other) {
        throw e; // problems besides the profile's gaps: the whole report stands
      }
      if (ProfileSection.gaps(asDev).isEmpty()) {
        throw e;
      }
      String source = file == null ? "defaults" : file.toString();
      return validated(source, asDev.settings().values().withProfile(Profile.PROD), checks, false);
    }
  }

  /**
   * The config a reload puts in force: {@code next}'s settings, except those {@code keepRunning}
   * names (the ones that apply only at start), which keep {@code running}'s values. Built and
   * checked as a whole like a load, since a mix of two valid files need not be valid (auth turned
   * off in the new file, which also moved the listener to loopback, while the running listener
   * stays where it is).
   *
   * @param source the file {@code next} came from, for the report
   */
  public static GatehouseConfig reloaded(
      GatehouseConfig running,
      GatehouseConfig next,
      Predicate<String> keepRunning,
      String source,
      List<ConfigCheck> checks)
      throws ConfigException {
    return validated(
        source, next.settings().with(running.settings(), keepRunning).values(), checks, true);
  }

  /** Builds every section from converted values and runs every check; all or nothing. */
  private static GatehouseConfig validated(
      String source, SettingValues values, List<ConfigCheck> checks, boolean profileChecked)
      throws ConfigException {
    Problems found = new Problems(values);
    GatehouseConfig config = build(values, found);
    CrossSectionChecks.check(config, found);
    if (profileChecked) {
      ProfileSection.check(config, found);
    }
    for (ConfigCheck check : checks) {
      check.check(config, found);
    }
    if (!found.isEmpty()) {
      throw new ConfigException(source, found.lines());
    }
    return config;
  }

  private static @Nullable Setting byEnv(String name) {
    for (Setting s : Settings.ALL) {
      if (s.env().equals(name)) {
        return s;
      }
    }
    return null;
  }

  private static void readYaml(Path file, Map<String, Raw> raw, List<String> problems) {
    JsonNode root;
    try {
      root = YAML.readTree(Files.readString(file));
    } catch (JsonProcessingException e) {
      problems.add(file.getFileName() + ": " + yamlProblem(e) + " (expected: valid YAML)");
      return;
    } catch (IOException e) {
      problems.add("--config: " + file + " (expected: a readable file; " + e.getMessage() + ")");
      return;
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return; // an empty file means all defaults
    }
    if (!root.isObject()) {
      problems.add("(top level): " + root + " (expected: a mapping of settings)");
      return;
    }
    flatten("", root, raw, problems);
  }

  /** A YAML syntax error in one line: where, and the parser's own words without its echo. */
  private static String yamlProblem(JsonProcessingException e) {
    StringBuilder b = new StringBuilder();
    if (e.getLocation() != null && e.getLocation().getLineNr() > 0) {
      b.append("line ")
          .append(e.getLocation().getLineNr())
          .append(", column ")
          .append(e.getLocation().getColumnNr())
          .append(": ");
    }
    String sep = "";
    for (String line : e.getOriginalMessage().split("\n")) {
      if (!line.isBlank() && !line.startsWith(" ") && !line.contains("in 'reader'")) {
        b.append(sep).append(line.strip());
        sep = "; ";
      }
    }
    return b.toString();
  }

  private static void flatten(
      String prefix, JsonNode node, Map<String, Raw> raw, List<String> problems) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      if (Settings.BY_PATH.containsKey(path)) {
        raw.put(path, new Raw(e.getValue(), null, null));
      } else if (isSection(path)) {
        if (e.getValue().isObject()) {
          flatten(path, e.getValue(), raw, problems);
        } else if (!e.getValue().isNull()) {
          problems.add(
              path + ": " + e.getValue() + " (expected: a mapping with " + children(path) + ")");
        }
      } else {
        problems.add(
            path
                + ": "
                + SettingValues.shown(e.getValue())
                + " (expected: one of "
                + children(prefix)
                + ")");
      }
    }
  }

  private static boolean isSection(String path) {
    return Settings.BY_PATH.keySet().stream().anyMatch(p -> p.startsWith(path + "."));
  }

  /** The names directly under a section ("" for the top level), comma-separated. */
  private static String children(String section) {
    String prefix = section.isEmpty() ? "" : section + ".";
    List<String> names = new ArrayList<>();
    for (String p : Settings.BY_PATH.keySet()) {
      if (p.startsWith(prefix)) {
        String rest = p.substring(prefix.length());
        String name = prefix + (rest.contains(".") ? rest.substring(0, rest.indexOf('.')) : rest);
        if (!names.contains(name)) {
          names.add(name);
        }
      }
    }
    return String.join(", ", names);
  }

  /** Converts one raw value to its typed form; null means it is malformed. */
  private static @Nullable Object convert(Setting s, Raw r) {
    if (s.kind() == Kind.STRING_LIST) {
      return stringList(r);
    }
    if (s.kind() == Kind.MAPPING_LIST) {
      return mappingList(r);
    }
    String text;
    if (r.node() != null) {
      if (r.node().isNull()) {
        text = s.defaultValue();
      } else if (!r.node().isValueNode()) {
        return null;
      } else {
        text = r.node().asText();
      }
    } else {
      text = Objects.requireNonNull(r.text(), "a Raw without a node has text");
    }
    text = text.trim();
    return switch (s.kind()) {
      case STRING -> text;
      case PATH -> text.isEmpty() ? Path.of("") : Path.of(text);
      case HOST_PORT -> HostPort.parse(text);
      case HOST_PORT_OR_EMPTY -> text.isEmpty() ? Path.of("") : HostPort.parse(text);
      case URL -> upstreamUrl(text);
      case BOOLEAN ->
          text.equals("true") ? Boolean.TRUE : text.equals("false") ? Boolean.FALSE : null;
      case INTEGER -> text.matches("-?[0-9]{1,9}") ? Integer.valueOf(text) : null;
      case DURATION -> Values.duration(text);
      case SIZE -> Values.size(text);
      case DURATION_OR_OFF -> text.isEmpty() ? Duration.ZERO : Values.duration(text);
      case SIZE_OR_OFF -> text.isEmpty() ? Long.valueOf(0) : Values.size(text);
      case STRING_LIST, MAPPING_LIST -> null; // handled above
    };
  }

  private static @Nullable List<String> stringList(Raw r) {
    List<String> out = new ArrayList<>();
    if (r.node() == null) {
      String t = Objects.requireNonNull(r.text(), "a Raw without a node has text").trim();
      if (t.equals("[]") || t.isEmpty()) {
        return out;
      }
      for (String part : t.split(",")) {
        if (!part.isBlank()) {
          out.add(part.trim());
        }
      }
      return out;
    }
    if (r.node().isNull()) {
      return out;
    }
    if (!r.node().isArray()) {
      return null;
    }
    for (JsonNode n : r.node()) {
      if (!n.isValueNode() || n.isNull() || n.asText().isBlank()) {
        return null;
      }
      out.add(n.asText().trim());
    }
    return out;
  }

  /**
   * A list of mappings ({@code upstreams}): as YAML, a sequence; in a variable or flag, a YAML flow
   * sequence ({@code [{url: http://a:11434}, {url: http://b:11434, weight: 2}]}) or URLs separated
   * by commas, each an entry with its URL alone.
   */
  private static @Nullable JsonNode mappingList(Raw r) {
    JsonNode node = r.node();
    if (node == null) {
      String t = Objects.requireNonNull(r.text(), "a Raw without a node has text").trim();
      if (t.startsWith("[")) {
        try {
          node = YAML.readTree(t);
        } catch (JsonProcessingException e) {
          return null;
        }
      } else {
        com.fasterxml.jackson.databind.node.ArrayNode list = YAML.createArrayNode();
        for (String part : t.split(",")) {
          if (!part.isBlank()) {
            list.addObject().put("url", part.trim());
          }
        }
        return list;
      }
    }
    if (node == null || node.isNull()) {
      return YAML.createArrayNode();
    }
    return node.isArray() ? node : null;
  }

  static @Nullable URI upstreamUrl(String text) {
    try {
      URI u = new URI(text);
      boolean ok =
          ("http".equals(u.getScheme()) || "https".equals(u.getScheme()))
              && u.getHost() != null
              && u.getRawUserInfo() == null
              && u.getRawQuery() == null
              && u.getRawFragment() == null
              && (u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/"));
      return ok ? u : null;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  /**
   * Builds the configuration, section by section; each section checks its own settings as it is
   * built, into {@code problems}.
   */
  private static GatehouseConfig build(SettingValues v, Problems p) {
    Path dataDir = v.path("data_dir");
    dataDir = (dataDir == null ? Path.of(".gatehouse") : dataDir).toAbsolutePath().normalize();
    int eventLoops = v.integer("server.event_loops");
    p.range("server.event_loops", eventLoops, 0, 256, "0-256, where 0 means one per core");
    p.exactlyOneOf(
        "server.transport",
        "auto",
        "auto, io_uring, epoll or nio",
        "auto",
        "io_uring",
        "epoll",
        "nio");
    UpstreamSettings upstreams = UpstreamSettings.build(v, p, v.url("upstream"));
    return new GatehouseConfig(
        Objects.requireNonNull(
            v.hostPort("listen"), "a HOST_PORT value that did not parse stopped the load"),
        // the first upstream: what doctor, the banner and the bench name as "the" upstream
        upstreams.entries().isEmpty() ? v.url("upstream") : upstreams.entries().get(0).url(),
        dataDir,
        eventLoops,
        switch (v.string("server.transport")) {
          case "io_uring" -> IoTransport.IO_URING;
          case "epoll" -> IoTransport.EPOLL;
          case "nio" -> IoTransport.NIO;
          default -> IoTransport.AUTO; // anything else is reported above
        },
        v.bool("auth.enabled"),
        ServerSections.tls(v, p),
        PolicySections.policy(v, p),
        LimitSections.limits(v, p),
        LimitSections.timeouts(v, p),
        LimitSections.rate(v, p),
        LimitSections.budget(v, p),
        LimitSections.concurrency(v, p),
        LimitSections.caps(v, p),
        PolicySections.models(v, p),
        AbuseSections.network(v, p),
        AbuseSections.cors(v, p),
        AbuseSections.bans(v, p),
        AbuseSections.probes(v, p),
        AbuseSections.connections(v, p),
        ServerSections.admin(v, p),
        AlertAndAuditSections.alerts(v, p),
        AlertAndAuditSections.audit(v, p, dataDir),
        ServerSections.posture(v, p),
        PolicySections.guard(v, p),
        JwtSection.jwt(v, p),
        StoreSection.store(v, p),
        InstanceSection.instance(v, p),
        BalancingSection.balancing(v, p),
        upstreams,
        RedisSection.sharedLimits(v, p),
        ProfileSection.profile(v, p),
        new LoadedSettings(v));
  }
}
