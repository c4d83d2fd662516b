package dev.gatehouse.listen;

import dev.gatehouse.exchange.RequestTarget;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import org.jspecify.annotations.Nullable;

/**
 * The optional plain-HTTP listener: it answers every request with a 308 redirect to the same path
 * over HTTPS, and serves nothing else. Keys sent over it by mistake are never checked or relayed.
 */
public final class RedirectHandler implements Handler<HttpServerRequest> {

  private final int httpsPort;

  public RedirectHandler(int httpsPort) {
    this.httpsPort = httpsPort;
  }

  @Override
  public void handle(HttpServerRequest req) {
    String host = hostName(req.getHeader("Host"));
    if (host == null) {
      req.response().setStatusCode(400).putHeader("Connection", "close").end();
      return;
    }
    RequestTarget target = RequestTarget.parse(req.uri());
    String path = target == null ? "/" : target.raw();
    String authority = httpsPort == 443 ? host : host + ":" + httpsPort;
    req.response().setStatusCode(308).putHeader("Location", "https://" + authority + path).end();
  }

  /** The host part of a Host header, if it is a plain DNS name or IP literal; otherwise null. */
  static @Nullable String hostName(String header) {
    if (header == null) {
      return null;
    }
    String h = header.trim();
    if (h.startsWith("[")) {
      int close = h.indexOf(']');
      return close > 1 && h.substring(1, close).matches("[0-9a-fA-F:.]+")
          ? h.substring(0, close + 1)
          : null;
    }
    int colon = h.indexOf(':');
    String name = colon < 0 ? h : h.substring(0, colon);
    return name.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,252})") ? name : null;
  }
}
