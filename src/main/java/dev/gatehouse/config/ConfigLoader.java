package dev.gatehouse.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gatehouse.config.Setting.Kind;
import dev.gatehouse.pins.ModelPins;
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
import java.util.Set;
import java.util.TreeMap;

/**
 * Loads configuration from defaults, then {@code gatehouse.yaml}, then {@code GATEHOUSE_*}
 * environment variables, then command-line flags (each layer overrides the one before), and
 * validates it all at once: every problem is collected and reported together, as
 * {@code path: value (expected: ...)}.
 */
public final class ConfigLoader {

  /** Environment variables that belong to the launcher or the CLI, not to a setting. */
  private static final Set<String> RESERVED_ENV =
      Set.of("GATEHOUSE_CONFIG", "GATEHOUSE_JAVA_OPTS", "GATEHOUSE_JAVA");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private ConfigLoader() {}

  /** A raw value and where it came from, for error messages. */
  private record Raw(JsonNode node, String text, String origin) {}

  /**
   * Loads and validates.
   *
   * @param file the YAML file, or null for none
   * @param explicit true when the user named the file (then it must exist)
   * @param env the process environment
   * @param flags command-line overrides by setting path
   */
  public static GatehouseConfig load(
      Path file, boolean explicit, Map<String, String> env, Map<String, String> flags)
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
        problems.add(name + ": " + e.getValue() + " (expected: a variable named after a setting, such as GATEHOUSE_LISTEN; see docs/configuration.md)");
      } else {
        raw.put(s.path(), new Raw(null, e.getValue(), name));
      }
    }
    flags.forEach((path, value) -> raw.put(path, new Raw(null, value, "--" + path.replace('_', '-'))));

    Map<String, Object> v = new LinkedHashMap<>();
    for (Setting s : Settings.ALL) {
      Raw r = raw.getOrDefault(s.path(), new Raw(null, s.defaultValue(), null));
      Object value = convert(s, r);
      if (value == null) {
        problems.add(describe(s.path(), r) + " (expected: " + s.kind().expected + ")");
      }
      v.put(s.path(), value);
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(source, problems); // typed values are incomplete; stop here
    }
    abuseChecks(v, problems);
    GatehouseConfig config = build(v);
    crossCheck(config, raw, problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(source, problems);
    }
    return config;
  }

  private static Setting byEnv(String name) {
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
      b.append("line ").append(e.getLocation().getLineNr()).append(", column ").append(e.getLocation().getColumnNr()).append(": ");
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

  private static void flatten(String prefix, JsonNode node, Map<String, Raw> raw, List<String> problems) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      if (Settings.BY_PATH.containsKey(path)) {
        raw.put(path, new Raw(e.getValue(), null, null));
      } else if (isSection(path)) {
        if (e.getValue().isObject()) {
          flatten(path, e.getValue(), raw, problems);
        } else if (!e.getValue().isNull()) {
          problems.add(path + ": " + e.getValue() + " (expected: a mapping with " + children(path) + ")");
        }
      } else {
        problems.add(path + ": " + shown(e.getValue()) + " (expected: one of " + children(prefix) + ")");
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

  private static String shown(JsonNode node) {
    return node.isTextual() ? node.asText() : node.toString();
  }

  private static String describe(String path, Raw r) {
    String value = r.node() != null ? shown(r.node()) : r.text();
    String from = r.origin() == null ? "" : " [from " + r.origin() + "]";
    return path + ": " + (value.isEmpty() ? "(empty)" : value) + from;
  }

  /** Converts one raw value to its typed form; null means it is malformed. */
  private static Object convert(Setting s, Raw r) {
    if (s.kind() == Kind.STRING_LIST) {
      return stringList(r);
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
      text = r.text();
    }
    text = text.trim();
    return switch (s.kind()) {
      case STRING -> text;
      case PATH -> text.isEmpty() ? Path.of("") : Path.of(text);
      case HOST_PORT -> HostPort.parse(text);
      case HOST_PORT_OR_EMPTY -> text.isEmpty() ? Path.of("") : HostPort.parse(text);
      case URL -> upstreamUrl(text);
      case BOOLEAN -> text.equals("true") ? Boolean.TRUE : text.equals("false") ? Boolean.FALSE : null;
      case INTEGER -> text.matches("-?[0-9]{1,9}") ? Integer.valueOf(text) : null;
      case DURATION -> Values.duration(text);
      case SIZE -> Values.size(text);
      case DURATION_OR_OFF -> text.isEmpty() ? Duration.ZERO : Values.duration(text);
      case SIZE_OR_OFF -> text.isEmpty() ? Long.valueOf(0) : Values.size(text);
      case STRING_LIST -> null; // handled above
    };
  }

  private static List<String> stringList(Raw r) {
    List<String> out = new ArrayList<>();
    if (r.node() == null) {
      String t = r.text().trim();
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

  private static URI upstreamUrl(String text) {
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

  /** The webhook URL, or null when empty or malformed (crossCheck reports the latter). */
  private static URI webhookUrl(String text) {
    if (text.isEmpty()) {
      return null;
    }
    try {
      URI u = new URI(text);
      boolean ok = ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null && u.getRawUserInfo() == null;
      return ok ? u : null;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  /** The zone, the system's when empty, or UTC when malformed (crossCheck reports that). */
  private static java.time.ZoneId zone(String text) {
    if (text.isEmpty()) {
      return java.time.ZoneId.systemDefault();
    }
    try {
      return java.time.ZoneId.of(text);
    } catch (java.time.DateTimeException e) {
      return java.time.ZoneOffset.UTC;
    }
  }

  private static Path optionalPath(Object p) {
    Path path = (Path) p;
    return path.toString().isEmpty() ? null : path;
  }

  private static GatehouseConfig build(Map<String, Object> v) {
    Path dataDir = ((Path) v.get("data_dir"));
    if (dataDir.toString().isEmpty()) {
      dataDir = Path.of(".gatehouse");
    }
    Object redirect = v.get("tls.redirect_listen");
    Path auditKey = optionalPath(v.get("audit.hmac_key_file"));
    @SuppressWarnings("unchecked")
    List<String> registries = (List<String>) v.get("policy.allowed_registries");
    return new GatehouseConfig(
        (HostPort) v.get("listen"),
        (URI) v.get("upstream"),
        dataDir.toAbsolutePath().normalize(),
        (Integer) v.get("server.event_loops"),
        (Boolean) v.get("auth.enabled"),
        new GatehouseConfig.Tls(
            optionalPath(v.get("tls.cert")),
            optionalPath(v.get("tls.key")),
            optionalPath(v.get("tls.chain")),
            redirect instanceof HostPort hp ? hp : null,
            (Duration) v.get("tls.hsts_max_age"),
            (Duration) v.get("tls.reload_interval"),
            "modern".equals(String.valueOf(v.get("tls.profile")).trim())),
        new GatehouseConfig.Policy(List.copyOf(registries), (Boolean) v.get("policy.allow_cloud_models")),
        new GatehouseConfig.Limits(
            (Long) v.get("limits.max_body"),
            (Long) v.get("limits.max_blob"),
            (int) Math.min(Integer.MAX_VALUE, (Long) v.get("limits.max_header_bytes")),
            (Integer) v.get("limits.max_headers"),
            (Integer) v.get("limits.max_upstream_connections")),
        new GatehouseConfig.Timeouts(
            (Duration) v.get("timeouts.header_read"),
            (Duration) v.get("timeouts.keepalive"),
            (Duration) v.get("timeouts.upstream_connect"),
            (Duration) v.get("timeouts.upstream_first_byte"),
            (Duration) v.get("timeouts.upstream_idle"),
            (Duration) v.get("timeouts.body_read"),
            (Long) v.get("timeouts.body_min_rate")),
        new GatehouseConfig.Rate(
            (Integer) v.get("rate.key_rpm"),
            (Integer) v.get("rate.key_burst"),
            (Integer) v.get("rate.ip_rpm"),
            (Integer) v.get("rate.ip_burst"),
            (Integer) v.get("rate.anonymous_ip_rpm"),
            (Integer) v.get("rate.anonymous_ip_burst")),
        new GatehouseConfig.Budget(
            ((Integer) v.get("budget.tokens_per_minute")).longValue(),
            ((Integer) v.get("budget.tokens_per_day")).longValue()),
        new GatehouseConfig.Concurrency(
            (Integer) v.get("concurrency.global"),
            (Integer) v.get("concurrency.per_key"),
            (Integer) v.get("concurrency.queue"),
            (Duration) v.get("concurrency.queue_timeout")),
        new GatehouseConfig.Caps(
            "reject".equals(v.get("caps.mode")),
            (Integer) v.get("caps.max_output_tokens"),
            (Integer) v.get("caps.num_ctx"),
            (Integer) v.get("caps.n"),
            (Duration) v.get("caps.keep_alive_max"),
            (Integer) v.get("caps.images"),
            (Long) v.get("caps.image_bytes"),
            (Integer) v.get("caps.messages"),
            (Integer) v.get("caps.prompt_chars")),
        new GatehouseConfig.Models(optionalPath(v.get("models.pinned")), (Duration) v.get("models.pin_refresh")),
        new GatehouseConfig.Network(
            AddressSet.parse(strings(v, "network.allow")),
            AddressSet.parse(strings(v, "network.deny")),
            AddressSet.parse(strings(v, "network.trusted_proxies")),
            List.copyOf(strings(v, "network.allowed_hosts")),
            AddressSet.parse(strings(v, "network.ioc")),
            optionalPath(v.get("network.ioc_file"))),
        new GatehouseConfig.Cors(List.copyOf(strings(v, "cors.origins")), (Duration) v.get("cors.max_age")),
        new GatehouseConfig.Bans(
            (Integer) v.get("bans.auth_failures"),
            (Duration) v.get("bans.auth_window"),
            (Duration) v.get("bans.duration"),
            (Duration) v.get("bans.max_duration"),
            !"403".equals(v.get("bans.refusal")),
            AddressSet.parse(strings(v, "bans.never"))),
        new GatehouseConfig.Probes(
            probeAction((String) v.get("probes.action")),
            (Integer) v.get("probes.threshold"),
            (Duration) v.get("probes.window"),
            (Duration) v.get("probes.tarpit_delay"),
            (int) Math.min(Integer.MAX_VALUE, (Long) v.get("probes.body_peek_bytes")),
            (Duration) v.get("probes.body_peek_timeout")),
        new GatehouseConfig.Connections((Integer) v.get("connections.max_per_ip"), (Integer) v.get("connections.max_total")),
        new GatehouseConfig.Admin(
            v.get("admin.listen") instanceof HostPort admin ? admin : null,
            (Boolean) v.get("admin.allow_remote"),
            (Duration) v.get("health.interval"),
            (Duration) v.get("health.timeout")),
        new GatehouseConfig.Alerts(
            (Boolean) v.get("alerts.default_rules"),
            strings(v, "alerts.rules"),
            webhookUrl(String.valueOf(v.get("alerts.webhook")).trim()),
            optionalPath(v.get("alerts.webhook_secret_file")),
            (Duration) v.get("alerts.webhook_timeout"),
            (Integer) v.get("alerts.webhook_retries"),
            (Duration) v.get("alerts.webhook_backoff"),
            String.valueOf(v.get("alerts.manage_hours")).trim(),
            zone(String.valueOf(v.get("alerts.timezone")).trim()),
            (Integer) v.get("alerts.network_prefix_v4"),
            (Integer) v.get("alerts.network_prefix_v6")),
        new GatehouseConfig.Audit(
            auditKey == null ? dataDir.toAbsolutePath().normalize().resolve("audit-hmac.key") : auditKey.toAbsolutePath().normalize(),
            switch (String.valueOf(v.get("audit.prompt")).trim()) {
              case "sha256" -> GatehouseConfig.AuditPrompt.SHA256;
              case "text" -> GatehouseConfig.AuditPrompt.TEXT;
              default -> GatehouseConfig.AuditPrompt.NONE; // anything else is reported by crossCheck
            },
            (Integer) v.get("audit.checkpoint_every"),
            (Duration) v.get("audit.checkpoint_interval"),
            !"batch".equals(String.valueOf(v.get("audit.durability")).trim()),
            new GatehouseConfig.AuditRetention(
                (Long) v.get("audit.retention.segment_bytes"),
                (Duration) v.get("audit.retention.max_age"),
                (Long) v.get("audit.retention.max_bytes")),
            (Duration) v.get("audit.db_max_lag")),
        new GatehouseConfig.Posture((Duration) v.get("posture.interval"), (Duration) v.get("posture.run_timeout")),
        new GatehouseConfig.Guard(
            switch (String.valueOf(v.get("guard.mode")).trim()) {
              case "off", "false" -> GatehouseConfig.GuardMode.OFF; // YAML 1.1 reads a bare off as false
              case "block" -> GatehouseConfig.GuardMode.BLOCK;
              default -> GatehouseConfig.GuardMode.LOG; // anything else is reported by crossCheck
            },
            String.valueOf(v.get("guard.scope")).trim(),
            (int) Math.min(Integer.MAX_VALUE, (Long) v.get("guard.max_bytes")),
            switch (String.valueOf(v.get("guard.secrets")).trim()) {
              case "log" -> GatehouseConfig.SecretsAction.LOG;
              case "redact" -> GatehouseConfig.SecretsAction.REDACT;
              case "block" -> GatehouseConfig.SecretsAction.BLOCK;
              default -> GatehouseConfig.SecretsAction.OFF; // anything else is reported by crossCheck
            }),
        new GatehouseConfig.Store(String.valueOf(v.get("store.kind")).trim()));
  }

  private static void adminAndAlertChecks(GatehouseConfig c, Map<String, Raw> raw, List<String> problems) {
    HostPort admin = c.admin().listen();
    if (admin != null && !admin.isLoopback() && !c.admin().allowRemote()) {
      problems.add(describe("admin.listen", raw.get("admin.listen"))
          + " (expected: a loopback address; the admin listener has no authentication, so another address needs admin.allow_remote: true)");
    }
    if (admin != null && admin.port() != 0 && admin.port() == c.listen().port()) {
      problems.add(describe("admin.listen", raw.get("admin.listen")) + " (expected: a port other than the public listener's)");
    }
    if (c.admin().healthInterval().isNegative()) {
      problems.add(describe("health.interval", raw.get("health.interval")) + " (expected: 0s or more)");
    }
    positive(problems, raw, "health.timeout", c.admin().healthTimeout());
    Raw webhook = raw.get("alerts.webhook");
    if (webhook != null && c.alerts().webhook() == null && !(webhook.node() != null ? webhook.node().asText() : webhook.text()).isBlank()) {
      problems.add(describe("alerts.webhook", webhook) + " (expected: an http:// or https:// URL with a host and no user info)");
    }
    try {
      dev.gatehouse.alerts.Alerts.rules(c.alerts().defaultRules(), c.alerts().rules());
    } catch (IllegalArgumentException e) {
      problems.add("alerts.rules: " + e.getMessage());
    }
    try {
      dev.gatehouse.alerts.ManageHours.parse(c.alerts().manageHours(), c.alerts().timezone());
    } catch (IllegalArgumentException e) {
      problems.add(describe("alerts.manage_hours", raw.getOrDefault("alerts.manage_hours", new Raw(null, c.alerts().manageHours(), null)))
          + " (expected: " + dev.gatehouse.alerts.ManageHours.FORM + "; " + e.getMessage() + ")");
    }
    Raw tz = raw.get("alerts.timezone");
    if (tz != null) {
      String text = tz.node() != null ? tz.node().asText().trim() : tz.text().trim();
      if (!text.isEmpty() && !java.time.ZoneId.getAvailableZoneIds().contains(text) && !text.equals("UTC")) {
        problems.add(describe("alerts.timezone", tz) + " (expected: a time zone id such as UTC or Europe/Berlin)");
      }
    }
    range(problems, raw, "alerts.webhook_retries", c.alerts().webhookRetries(), 0, 100, "0-100");
    positive(problems, raw, "alerts.webhook_timeout", c.alerts().webhookTimeout());
    positive(problems, raw, "alerts.webhook_backoff", c.alerts().webhookBackoff());
    positive(problems, raw, "posture.run_timeout", c.posture().runTimeout());
    range(problems, raw, "alerts.network_prefix_v4", c.alerts().networkPrefixV4(), 1, 32, "1-32");
    range(problems, raw, "alerts.network_prefix_v6", c.alerts().networkPrefixV6(), 1, 128, "1-128");
  }

  /** Reports a string setting that is none of {@code allowed}. */
  private static void oneOf(List<String> problems, Map<String, Raw> raw, String path, String def, String expected, String... allowed) {
    Raw r = raw.get(path);
    String text = r == null ? def : r.node() != null ? r.node().asText() : r.text().trim();
    if (text.trim().equals("false") && java.util.List.of(allowed).contains("off")) {
      return; // YAML 1.1 reads a bare off as the boolean false; where off is a choice, that is what was meant
    }
    if (!java.util.List.of(allowed).contains(text.trim())) {
      problems.add(describe(path, r) + " (expected: " + expected + ")");
    }
  }

  @SuppressWarnings("unchecked")
  private static List<String> strings(Map<String, Object> v, String path) {
    return (List<String>) v.get(path);
  }

  private static GatehouseConfig.ProbeAction probeAction(String text) {
    for (GatehouseConfig.ProbeAction a : GatehouseConfig.ProbeAction.values()) {
      if (a.name().equalsIgnoreCase(text)) {
        return a;
      }
    }
    return GatehouseConfig.ProbeAction.LOG; // only reached when abuseChecks already reported it
  }

  private static final String CIDR_EXPECTED = "an IP address or CIDR range such as 192.168.1.0/24 or 2001:db8::/48";

  /**
   * Checks the abuse-control settings that typing alone cannot (addresses, host names, origins,
   * choices), and merges the IoC file into {@code network.ioc}. Runs before {@link #build}, which
   * then parses only what passed.
   */
  private static void abuseChecks(Map<String, Object> v, List<String> problems) {
    for (String path : List.of("network.allow", "network.deny", "network.trusted_proxies", "network.ioc", "bans.never")) {
      for (String e : strings(v, path)) {
        if (Cidr.parse(e) == null) {
          problems.add(path + ": " + e + " (expected: " + CIDR_EXPECTED + ")");
        }
      }
    }
    for (String h : strings(v, "network.allowed_hosts")) {
      if (!h.equals("*") && !h.matches("(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")
          && IpAddress.parse(h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h) == null) {
        problems.add("network.allowed_hosts: " + h + " (expected: a host name, *.domain, an IP address, or * for any; without a port)");
      }
    }
    for (String o : strings(v, "cors.origins")) {
      if (o.equals("*") || o.equals("null")) {
        problems.add("cors.origins: " + o + " (expected: an origin such as https://app.example.com; " + o
            + " would let any web page call the API with a visitor's key)");
      } else if (!o.matches("https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?")) {
        problems.add("cors.origins: " + o + " (expected: an origin such as https://app.example.com, without a path)");
      }
    }
    if (!List.of("close", "403").contains(v.get("bans.refusal"))) {
      problems.add("bans.refusal: " + v.get("bans.refusal") + " (expected: close or 403)");
    }
    if (!List.of("log", "ban", "tarpit").contains(v.get("probes.action"))) {
      problems.add("probes.action: " + v.get("probes.action") + " (expected: log, ban or tarpit)");
    }
    Path iocFile = optionalPath(v.get("network.ioc_file"));
    if (iocFile != null && !Files.isReadable(iocFile)) {
      problems.add("network.ioc_file: " + iocFile + " (expected: a readable text file of addresses, one per line)");
    } else if (iocFile != null) {
      List<String> merged = new ArrayList<>(strings(v, "network.ioc"));
      try {
        int lineNo = 0;
        int bad = 0;
        for (String line : Files.readAllLines(iocFile)) {
          lineNo++;
          int hash = line.indexOf('#');
          String entry = (hash >= 0 ? line.substring(0, hash) : line).trim();
          if (entry.isEmpty()) {
            continue;
          }
          if (Cidr.parse(entry) == null) {
            if (++bad <= 5) { // a wrong file would otherwise bury every other problem
              problems.add("network.ioc_file: " + iocFile + " line " + lineNo + ": " + entry + " (expected: " + CIDR_EXPECTED + ")");
            }
          } else {
            merged.add(entry);
          }
        }
      } catch (IOException | RuntimeException e) {
        problems.add("network.ioc_file: " + iocFile + " (expected: a readable text file of addresses; " + e.getMessage() + ")");
      }
      v.put("network.ioc", merged);
    }
  }

  private static void range(List<String> problems, Map<String, Raw> raw, String path, long value, long min, long max, String expected) {
    if (value < min || value > max) {
      Raw r = raw.getOrDefault(path, new Raw(null, Long.toString(value), null));
      problems.add(describe(path, r) + " (expected: " + expected + ")");
    }
  }

  private static void crossCheck(GatehouseConfig c, Map<String, Raw> raw, List<String> problems) {
    range(problems, raw, "server.event_loops", c.eventLoops(), 0, 256, "0-256, where 0 means one per core");
    range(problems, raw, "limits.max_body", c.limits().maxBody(), 1024, 1L << 32, "1KiB to 4GiB");
    range(problems, raw, "limits.max_blob", c.limits().maxBlob(), 1024, Long.MAX_VALUE, "at least 1KiB");
    range(problems, raw, "limits.max_header_bytes", c.limits().maxHeaderBytes(), 1024, 1 << 20, "1KiB to 1MiB");
    range(problems, raw, "limits.max_headers", c.limits().maxHeaders(), 8, 1000, "8-1000");
    range(problems, raw, "limits.max_upstream_connections", c.limits().maxUpstreamConnections(), 1, 1_000_000, "1-1000000");
    GatehouseConfig.Timeouts t = c.timeouts();
    positive(problems, raw, "timeouts.header_read", t.headerRead());
    positive(problems, raw, "timeouts.keepalive", t.keepalive());
    positive(problems, raw, "timeouts.upstream_connect", t.upstreamConnect());
    positive(problems, raw, "timeouts.upstream_first_byte", t.upstreamFirstByte());
    positive(problems, raw, "timeouts.upstream_idle", t.upstreamIdle());
    positive(problems, raw, "timeouts.body_read", t.bodyRead());
    positive(problems, raw, "tls.reload_interval", c.tls().reloadInterval());
    positive(problems, raw, "cors.max_age", c.cors().maxAge());
    GatehouseConfig.Bans bans = c.bans();
    range(problems, raw, "bans.auth_failures", bans.authFailures(), 0, 1000, "0-1000, where 0 turns auth-failure bans off");
    positive(problems, raw, "bans.auth_window", bans.authWindow());
    positive(problems, raw, "bans.duration", bans.duration());
    positive(problems, raw, "bans.max_duration", bans.maxDuration());
    if (bans.maxDuration().compareTo(bans.duration()) < 0) {
      problems.add(describe("bans.max_duration", raw.getOrDefault("bans.max_duration", new Raw(null, bans.maxDuration().toString(), null)))
          + " (expected: at least bans.duration)");
    }
    GatehouseConfig.Probes probes = c.probes();
    range(problems, raw, "probes.threshold", probes.threshold(), 1, 1_000_000, "1-1000000");
    positive(problems, raw, "probes.window", probes.window());
    positive(problems, raw, "probes.tarpit_delay", probes.tarpitDelay());
    range(problems, raw, "probes.tarpit_delay", probes.tarpitDelay().toMillis(), 0, 60_000, "at most 60s");
    range(problems, raw, "probes.body_peek_bytes", probes.bodyPeekBytes(), 0, 65_536, "0 (off) to 64KiB");
    positive(problems, raw, "probes.body_peek_timeout", probes.bodyPeekTimeout());
    range(problems, raw, "probes.body_peek_timeout", probes.bodyPeekTimeout().toMillis(), 1, 10_000, "at most 10s");
    range(problems, raw, "connections.max_per_ip", c.connections().maxPerIp(), 1, 10_000_000, "1-10000000");
    range(problems, raw, "connections.max_total", c.connections().maxTotal(), 1, 10_000_000, "1-10000000");

    GatehouseConfig.Rate rate = c.rate();
    Map<String, Long> offOrPositive = new LinkedHashMap<>();
    offOrPositive.put("rate.key_rpm", (long) rate.keyRpm());
    offOrPositive.put("rate.key_burst", (long) rate.keyBurst());
    offOrPositive.put("rate.ip_rpm", (long) rate.ipRpm());
    offOrPositive.put("rate.ip_burst", (long) rate.ipBurst());
    offOrPositive.put("rate.anonymous_ip_rpm", (long) rate.anonymousIpRpm());
    offOrPositive.put("rate.anonymous_ip_burst", (long) rate.anonymousIpBurst());
    offOrPositive.put("budget.tokens_per_minute", c.budget().tokensPerMinute());
    offOrPositive.put("budget.tokens_per_day", c.budget().tokensPerDay());
    offOrPositive.forEach((path, value) -> range(problems, raw, path, value, 0, 1_000_000_000, "0 (off) or a positive number"));
    range(problems, raw, "concurrency.global", c.concurrency().global(), 1, 1_000_000, "1-1000000");
    range(problems, raw, "concurrency.per_key", c.concurrency().perKey(), 1, 1_000_000, "1-1000000");
    range(problems, raw, "concurrency.queue", c.concurrency().queue(), 0, 1_000_000, "0-1000000");
    positive(problems, raw, "concurrency.queue_timeout", c.concurrency().queueTimeout());
    Raw mode = raw.get("caps.mode");
    String modeText = mode == null ? "clamp" : mode.node() != null ? mode.node().asText() : mode.text().trim();
    if (!modeText.equals("clamp") && !modeText.equals("reject")) {
      problems.add(describe("caps.mode", mode) + " (expected: clamp or reject)");
    }
    range(problems, raw, "caps.max_output_tokens", c.caps().maxOutputTokens(), 1, 10_000_000, "1-10000000");
    range(problems, raw, "caps.num_ctx", c.caps().numCtx(), 1, 10_000_000, "1-10000000");
    range(problems, raw, "caps.n", c.caps().n(), 1, 128, "1-128");
    range(problems, raw, "caps.images", c.caps().images(), 0, 1000, "0-1000");
    range(problems, raw, "caps.messages", c.caps().messages(), 1, 1_000_000, "1-1000000");
    range(problems, raw, "caps.prompt_chars", c.caps().promptChars(), 1, 1_000_000_000, "1-1000000000");

    positive(problems, raw, "models.pin_refresh", c.models().pinRefresh());
    adminAndAlertChecks(c, raw, problems);
    Raw prompt = raw.get("audit.prompt");
    String promptText = prompt == null ? "none" : prompt.node() != null ? prompt.node().asText() : prompt.text().trim();
    if (!promptText.equals("none") && !promptText.equals("sha256") && !promptText.equals("text")) {
      problems.add(describe("audit.prompt", prompt) + " (expected: none, sha256 or text)");
    }
    Raw profile = raw.get("tls.profile");
    String profileText = profile == null ? "intermediate" : profile.node() != null ? profile.node().asText() : profile.text().trim();
    if (!profileText.equals("intermediate") && !profileText.equals("modern")) {
      problems.add(describe("tls.profile", profile) + " (expected: intermediate or modern)");
    }
    oneOf(problems, raw, "store.kind", "sqlite", "sqlite", "sqlite");
    oneOf(problems, raw, "guard.mode", "log", "off, log or block", "off", "log", "block");
    oneOf(problems, raw, "guard.scope", "last_user_and_tools", "last_user_and_tools, user_and_tools or all",
        "last_user_and_tools", "user_and_tools", "all");
    oneOf(problems, raw, "guard.secrets", "off", "off, log, redact or block", "off", "log", "redact", "block");
    range(problems, raw, "guard.max_bytes", c.guard().maxChars(), 256, 16L << 20, "256 to 16MiB");
    Raw durability = raw.get("audit.durability");
    String durabilityText = durability == null ? "response" : durability.node() != null ? durability.node().asText() : durability.text().trim();
    if (!durabilityText.equals("response") && !durabilityText.equals("batch")) {
      problems.add(describe("audit.durability", durability) + " (expected: response or batch)");
    }
    range(problems, raw, "audit.checkpoint_every", c.audit().checkpointEvery(), 1, 1_000_000, "1-1000000");
    positive(problems, raw, "audit.checkpoint_interval", c.audit().checkpointInterval());
    positive(problems, raw, "audit.db_max_lag", c.audit().dbMaxLag());
    GatehouseConfig.AuditRetention retention = c.audit().retention();
    range(problems, raw, "audit.retention.segment_bytes", retention.segmentBytes(), 1024, 1L << 40, "1KiB to 1TiB");
    if (retention.maxBytes() != 0 && retention.maxBytes() < retention.segmentBytes()) {
      range(problems, raw, "audit.retention.max_bytes", retention.maxBytes(), retention.segmentBytes(), Long.MAX_VALUE,
          "0 (off) or at least audit.retention.segment_bytes");
    }
    if (c.models().pinned() != null) {
      try {
        ModelPins.load(c.models().pinned());
      } catch (IOException | IllegalArgumentException e) {
        problems.add("models.pinned: " + c.models().pinned()
            + " (expected: a readable model lock file written by gatehouse models verify --pin; " + e.getMessage() + ")");
      }
    }

    GatehouseConfig.Tls tls = c.tls();
    if ((tls.cert() == null) != (tls.key() == null)) {
      String missing = tls.cert() == null ? "tls.cert" : "tls.key";
      String other = tls.cert() == null ? "tls.key" : "tls.cert";
      problems.add(missing + ": (empty) (expected: a PEM file, set together with " + other + ")");
    }
    readable(problems, "tls.cert", tls.cert());
    readable(problems, "tls.key", tls.key());
    readable(problems, "tls.chain", tls.chain());
    if (tls.chain() != null && tls.cert() == null) {
      problems.add("tls.chain: " + tls.chain() + " (expected: only together with tls.cert and tls.key)");
    }
    if (tls.redirectListen() != null && !tls.enabled()) {
      problems.add("tls.redirect_listen: " + tls.redirectListen() + " (expected: only together with tls.cert and tls.key)");
    }
    for (String reg : c.policy().allowedRegistries()) {
      if (!reg.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?")) {
        problems.add("policy.allowed_registries: " + reg + " (expected: a registry host or host:port, without a scheme or path)");
      }
    }
    exposure(c, problems);
  }

  /** The one check that keeps Gatehouse from serving clear text or anonymous traffic off-box. */
  private static void exposure(GatehouseConfig c, List<String> problems) {
    if (c.listen().isLoopback() || (c.tlsEnabled() && c.authEnabled())) {
      return;
    }
    StringBuilder b = new StringBuilder();
    b.append("listen: ").append(c.listen())
        .append(" (expected: a loopback address such as 127.0.0.1:11435, unless TLS is configured and authentication is on)\n")
        .append("This address can be reached from other machines. Without TLS, API keys and prompts would cross the network in clear text;")
        .append(" without authentication, anyone who finds the port could use, copy or delete your models. Add to gatehouse.yaml:\n");
    if (!c.tlsEnabled()) {
      b.append("  tls:\n    cert: ").append(c.dataDir().resolve("tls/cert.pem"))
          .append("\n    key: ").append(c.dataDir().resolve("tls/key.pem")).append('\n');
    }
    if (!c.authEnabled()) {
      b.append("  auth:\n    enabled: true\n");
    }
    if (!c.tlsEnabled()) {
      b.append("Create that certificate and key with: gatehouse tls self-signed --host <name-clients-use>");
    }
    problems.add(b.toString().stripTrailing());
  }

  private static void positive(List<String> problems, Map<String, Raw> raw, String path, Duration d) {
    if (d.isZero() || d.isNegative()) {
      problems.add(describe(path, raw.getOrDefault(path, new Raw(null, d.toString(), null))) + " (expected: a duration above zero)");
    }
  }

  private static void readable(List<String> problems, String path, Path p) {
    if (p != null && !Files.isReadable(p)) {
      problems.add(path + ": " + p + " (expected: a readable PEM file)");
    }
  }
}
