package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The answer to a request Netty's decoder refuses ({@link UndecodableRequest}), on a real Vert.x
 * server without the strict framing check in front (in the gateway, that check refuses these
 * first): Gatehouse's JSON with a request id, the status by the decoder's failure, and the
 * connection closed; never Vert.x's empty default.
 */
class UndecodableRequestTest {

  /** What each answer reported to the account stage. */
  static final java.util.Queue<dev.gatehouse.exchange.FramingRefusal> REFUSED =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  static Vertx vertx;
  static HttpServer server;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    server =
        vertx
            .createHttpServer(
                new HttpServerOptions()
                    .setHost("127.0.0.1")
                    .setPort(0)
                    .setMaxInitialLineLength(64)
                    .setMaxHeaderSize(256))
            .invalidRequestHandler(req -> REFUSED.add(UndecodableRequest.answer(req)))
            .requestHandler(req -> req.response().end("served"))
            .listen()
            .await(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "bad field name, 400, request.framing_invalid",
    "long request line, 414, request.target_too_long",
    "long field lines, 431, request.headers_too_large"
  })
  void theDecodersRefusalIsAnsweredInGatehousesFormat(String name, int status, String code)
      throws Exception {
    String request =
        switch (name) {
          case "bad field name" -> "GET / HTTP/1.1\r\nHost: a\r\nX(Bad): 1\r\nX-Next: 2\r\n\r\n";
          case "long request line" -> "GET /" + "a".repeat(100) + " HTTP/1.1\r\nHost: a\r\n\r\n";
          default -> "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + "a".repeat(300) + "\r\n\r\n";
        };
    String text;
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", server.actualPort()), 5000);
      s.setSoTimeout(5000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      text = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1); // ends: closed
    }
    assertThat(text).matches("(?s)HTTP/1\\.[01] " + status + " .*");
    assertThat(text).containsPattern("(?im)^x-request-id: [0-9a-f]{16}$");
    assertThat(text).containsPattern("(?im)^connection: close$");
    JsonNode body = new ObjectMapper().readTree(text.substring(text.indexOf("\r\n\r\n") + 4));
    assertThat(body.path("code").asText()).isEqualTo(code);
    assertThat(body.path("error").isTextual()).isTrue();
    assertThat(text).doesNotContain("served");
    // the refusal goes to the account stage under the id its answer carried, never quoting the
    // decoder's message (which may hold the bytes it refused)
    dev.gatehouse.exchange.FramingRefusal r = REFUSED.poll();
    assertThat(r).isNotNull();
    assertThat(text).containsIgnoringCase("x-request-id: " + r.requestId());
    assertThat(r.status()).isEqualTo(status);
    assertThat(r.problem().code).isEqualTo(code);
    assertThat(r.why()).doesNotContain("X(Bad)").doesNotContain("aaaa");
  }
}
