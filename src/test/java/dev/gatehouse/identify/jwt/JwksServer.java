package dev.gatehouse.identify.jwt;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real JWKS endpoint on a loopback port for the JWT tests: serves the public halves of the keys
 * it is given, counts the fetches, and can be made to fail with 500 or to stop listening.
 */
final class JwksServer implements AutoCloseable {

  private final HttpServer server;
  private final AtomicInteger fetches = new AtomicInteger();
  private volatile String body = "{\"keys\":[]}";
  private volatile boolean failing;

  JwksServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/realms/test/protocol/openid-connect/certs",
        exchange -> {
          fetches.incrementAndGet();
          byte[] out = body.getBytes(StandardCharsets.UTF_8);
          int status = failing ? 500 : 200;
          exchange.getResponseHeaders().set("Content-Type", "application/json");
          exchange.sendResponseHeaders(status, out.length);
          try (OutputStream o = exchange.getResponseBody()) {
            o.write(out);
          }
        });
    server.start();
  }

  /** Serves these keys (their public halves only, as a provider does) from now on. */
  void serve(List<? extends JWK> keys) {
    body = new JWKSet(List.copyOf(keys)).toPublicJWKSet().toString();
  }

  void failing(boolean f) {
    failing = f;
  }

  int fetches() {
    return fetches.get();
  }

  String url() {
    return "http://127.0.0.1:"
        + server.getAddress().getPort()
        + "/realms/test/protocol/openid-connect/certs";
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
