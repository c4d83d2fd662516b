package dev.gatehouse.admin.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import dev.gatehouse.config.DurationText;
import dev.gatehouse.config.HostPort;
import dev.gatehouse.config.Reloading;
import dev.gatehouse.config.Setting;
import dev.gatehouse.config.Settings;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * {@code GET /api/v1/config}: the configuration in force (it changes on reload), with secrets
 * redacted, and which settings reload live and which need a restart ({@link Reloading#RESTART}).
 *
 * <p>The document is the config record itself, walked component by component (so a setting added
 * later appears without a change here), names in snake_case. <b>Redaction rule</b>, by the value's
 * name: a name that has the word {@code secret}, {@code password}, {@code passwd}, {@code token},
 * {@code credential} or {@code private} is a secret; a file path whose name has the word {@code
 * key} or {@code secret} names a file that holds one ({@code tls.key}, {@code audit.hmac_key_file},
 * {@code alerts.webhook_secret_file}); and a URL keeps only its scheme, host and port ({@code
 * alerts.webhook}: chat webhooks carry their token in the path). A redacted value reads {@code
 * "[redacted]"}; an unset one stays {@code null}, so one can still see it is unset.
 */
final class ConfigApi {

  static final String REDACTED = "[redacted]";

  private static final Pattern SECRET_WORD =
      Pattern.compile("(^|_)(secret|secrets_file|password|passwd|token|credentials?|private)(_|$)");
  private static final Pattern KEY_FILE_WORD = Pattern.compile("(^|_)(key|secret)(_|$)");

  private final AdminContext ctx;

  ConfigApi(AdminContext ctx) {
    this.ctx = ctx;
  }

  void register(AdminRoutes routes) {
    routes.add(
        HttpMethod.GET,
        "/api/v1/config",
        Role.VIEWER,
        "The configuration in force, secrets redacted",
        this::get);
  }

  private void get(RoutingContext rc) {
    ObjectNode o = Api.JSON.createObjectNode();
    o.set("config", walk(ctx.config().get(), ""));
    Path file = ctx.configFile();
    if (file == null) {
      o.putNull("file");
    } else {
      o.put("file", file.toString());
    }
    ArrayNode live = o.putArray("live");
    ArrayNode restart = o.putArray("restart");
    for (Setting s : Settings.ALL) {
      (Reloading.RESTART.contains(s.path()) ? restart : live).add(s.path());
    }
    Api.ok(rc, o);
  }

  /** The JSON of one value named {@code name} (snake_case), redacted by the rule above. */
  static JsonNode walk(@Nullable Object value, String name) {
    JsonNodeFactory f = Api.JSON.getNodeFactory();
    if (value == null) {
      return f.nullNode();
    }
    if (SECRET_WORD.matcher(name).find()) {
      return f.textNode(REDACTED);
    }
    if (value instanceof Path p) {
      return KEY_FILE_WORD.matcher(name).find() ? f.textNode(REDACTED) : f.textNode(p.toString());
    }
    if (value instanceof URI u) {
      boolean bare =
          (u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/"))
              && u.getRawQuery() == null
              && u.getRawUserInfo() == null;
      return f.textNode(
          bare
              ? u.toString()
              : u.getScheme()
                  + "://"
                  + u.getHost()
                  + (u.getPort() < 0 ? "" : ":" + u.getPort())
                  + "/"
                  + REDACTED);
    }
    if (value instanceof HostPort hp) {
      return f.textNode(hp.toString());
    }
    if (value instanceof Record r) {
      ObjectNode o = f.objectNode();
      for (RecordComponent c : r.getClass().getRecordComponents()) {
        String n = snake(c.getName());
        Object v;
        try {
          v = c.getAccessor().invoke(r);
        } catch (ReflectiveOperationException e) {
          v = REDACTED; // unreadable: show nothing rather than guess
        }
        o.set(n, walk(v, n));
      }
      return o;
    }
    if (value instanceof Collection<?> list) {
      ArrayNode a = f.arrayNode();
      list.forEach(e -> a.add(walk(e, name)));
      return a;
    }
    return switch (value) {
      case Boolean b -> f.booleanNode(b);
      case Integer i -> f.numberNode(i);
      case Long l -> f.numberNode(l);
      case Double d -> f.numberNode(d);
      case Duration d -> f.textNode(DurationText.duration(d.toMillis()));
      case Enum<?> e -> f.textNode(e.name().toLowerCase(Locale.ROOT));
      default -> f.textNode(value.toString());
    };
  }

  private static String snake(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }
}
