package dev.gatehouse.admin;

import dev.gatehouse.admin.auth.AdminCredentials;
import dev.gatehouse.gateway.ReloadOutcome;
import dev.gatehouse.identify.ServerSecret;
import dev.gatehouse.store.Stores;
import dev.gatehouse.testing.GatewayFixture;
import io.vertx.core.net.KeyCertOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * A real gateway with its admin listener on a free loopback port, and one admin token per role.
 * Requests go through a real HTTP client, or byte for byte ({@link #raw}) where headers matter.
 */
public final class AdminFixture implements AutoCloseable {

  public final GatewayFixture gw;
  public final AdminCredentials admins;
  public final AdminServer server;
  public final Stores stores;

  /** A token of each role, by role. */
  public final Map<Role, String> tokens = new HashMap<>();

  public final HttpClient http = HttpClient.newHttpClient();

  private AdminFixture(GatewayFixture gw, KeyCertOptions tls, Callable<ReloadOutcome> reload)
      throws Exception {
    this.gw = gw;
    this.stores = Stores.sqlite(gw.store);
    this.admins =
        new AdminCredentials(
            stores.admins(), ServerSecret.loadOrCreate(gw.dataDir), Clock.systemUTC());
    for (Role r : Role.values()) {
      tokens.put(r, admins.create("test-" + r.label(), r).token());
    }
    this.server =
        AdminServer.start(
            new AdminContext(
                gw.gateway().vertx(),
                gw.gateway()::config,
                stores,
                gw.keys,
                gw.gateway(),
                admins,
                reload,
                Map.of(),
                null),
            tls);
  }

  /** A gateway (with these settings) and its admin listener on 127.0.0.1, plain HTTP. */
  public static AdminFixture start(Map<String, String> settings) throws Exception {
    return start(settings, null);
  }

  /** As {@link #start(Map)}, over TLS when {@code tls} is given. */
  public static AdminFixture start(Map<String, String> settings, KeyCertOptions tls)
      throws Exception {
    return start(
        settings, tls, () -> ReloadOutcome.refused(List.of("this fixture has no config file")));
  }

  /** As {@link #start(Map, KeyCertOptions)}, with {@code reload} behind POST /api/v1/reload. */
  public static AdminFixture start(
      Map<String, String> settings, KeyCertOptions tls, Callable<ReloadOutcome> reload)
      throws Exception {
    Map<String, String> s = new HashMap<>(settings);
    s.putIfAbsent("admin.listen", "127.0.0.1:0");
    GatewayFixture gw = GatewayFixture.start(s);
    try {
      return new AdminFixture(gw, tls, reload);
    } catch (Exception e) {
      gw.close();
      throw e;
    }
  }

  public int port() {
    return server.port();
  }

  public String base() {
    return "http://127.0.0.1:" + port();
  }

  /** A request with a bearer token (null: none) and a body (null: none). */
  public HttpResponse<String> send(String method, String path, String token, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base() + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> get(String path, Role role) throws Exception {
    return send("GET", path, tokens.get(role), null);
  }

  /**
   * A raw HTTP/1.1 exchange sent byte for byte: the request line, then {@code headers} (each a
   * whole line), then {@code Connection: close}, then the body.
   */
  public GatewayFixture.RawResponse raw(String requestLine, List<String> headers, String body)
      throws IOException {
    StringBuilder b = new StringBuilder(requestLine).append("\r\n");
    headers.forEach(h -> b.append(h).append("\r\n"));
    if (!body.isEmpty()) {
      b.append("Content-Length: ")
          .append(body.getBytes(StandardCharsets.UTF_8).length)
          .append("\r\n");
    }
    b.append("Connection: close\r\n\r\n").append(body);
    try (Socket s = new Socket("127.0.0.1", port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(b.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = in.readAllBytes();
      return parse(new String(buf, StandardCharsets.ISO_8859_1));
    }
  }

  static GatewayFixture.RawResponse parse(String text) {
    if (!text.startsWith("HTTP/1.1 ") && !text.startsWith("HTTP/1.0 ")) {
      return new GatewayFixture.RawResponse(-1, text, "");
    }
    int split = text.indexOf("\r\n\r\n");
    return new GatewayFixture.RawResponse(
        Integer.parseInt(text.substring(9, 12)),
        split < 0 ? text : text.substring(0, split),
        split < 0 ? "" : text.substring(split + 4));
  }

  /** The value of a header in a raw response head (case-insensitive name), or null. */
  public static String header(GatewayFixture.RawResponse r, String name) {
    for (String line : r.head().split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
        return line.substring(colon + 1).strip();
      }
    }
    return null;
  }

  @Override
  public void close() {
    server.close();
    gw.close();
  }
}
