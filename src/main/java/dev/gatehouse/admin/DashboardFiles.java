package dev.gatehouse.admin;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The dashboard's static files, from the class path under {@code admin/dashboard/} only: {@code /}
 * is {@code index.html}, {@code /assets/...} the files under {@code assets/}. Served without a
 * credential (the login page needs them); they hold no data. Read once off the event loop, then
 * kept in memory.
 *
 * <p>Not Vert.x Web's {@code StaticHandler}: that one looks in the working directory before the
 * class path, so a directory named {@code admin/dashboard} wherever Gatehouse was started would be
 * served instead.
 */
final class DashboardFiles implements Handler<RoutingContext> {

  static final String ROOT = "admin/dashboard/";

  /** Path segments of plain file names only: no {@code ..}, no hidden files, no encoding. */
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  /** At most this many names are remembered (found or not), so probing cannot grow it. */
  private static final int MAX_CACHED = 512;

  private static final Map<String, String> TYPES =
      Map.ofEntries(
          Map.entry("html", "text/html; charset=utf-8"),
          Map.entry("js", "text/javascript; charset=utf-8"),
          Map.entry("css", "text/css; charset=utf-8"),
          Map.entry("svg", "image/svg+xml"),
          Map.entry("png", "image/png"),
          Map.entry("ico", "image/x-icon"),
          Map.entry("json", "application/json"),
          Map.entry("txt", "text/plain; charset=utf-8"),
          Map.entry("woff2", "font/woff2"));

  private final Vertx vertx;
  private final Map<String, Optional<Buffer>> cache = new ConcurrentHashMap<>();

  DashboardFiles(Vertx vertx) {
    this.vertx = vertx;
  }

  @Override
  public void handle(RoutingContext rc) {
    HttpMethod m = rc.request().method();
    if (!m.equals(HttpMethod.GET) && !m.equals(HttpMethod.HEAD)) {
      rc.response().putHeader("Allow", "GET, HEAD");
      ProblemJson.send(rc, 405, "admin.method_not_allowed", "the dashboard's files are read only");
      return;
    }
    String path = rc.request().path();
    String name = path.equals("/") ? "index.html" : path.substring(1);
    String type = TYPES.get(extension(name));
    if (type == null || !plain(name)) {
      ProblemJson.send(rc, 404, "admin.not_found", "no such file");
      return;
    }
    Optional<Buffer> cached = cache.get(name);
    if (cached != null) {
      send(rc, cached, type);
      return;
    }
    vertx
        .executeBlocking(() -> read(name), false)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                rc.fail(500, ar.cause());
                return;
              }
              if (cache.size() < MAX_CACHED) {
                cache.put(name, ar.result());
              }
              send(rc, ar.result(), type);
            });
  }

  private static void send(RoutingContext rc, Optional<Buffer> file, String type) {
    if (file.isEmpty()) {
      ProblemJson.send(rc, 404, "admin.not_found", "no such file");
      return;
    }
    rc.response().putHeader("Content-Type", type).end(file.get());
  }

  private static Optional<Buffer> read(String name) throws IOException {
    try (InputStream in = DashboardFiles.class.getClassLoader().getResourceAsStream(ROOT + name)) {
      return in == null ? Optional.empty() : Optional.of(Buffer.buffer(in.readAllBytes()));
    }
  }

  static boolean plain(String name) {
    for (String segment : name.split("/", -1)) {
      if (!SEGMENT.matcher(segment).matches()) {
        return false;
      }
    }
    return true;
  }

  private static String extension(String name) {
    int dot = name.lastIndexOf('.');
    return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
  }
}
