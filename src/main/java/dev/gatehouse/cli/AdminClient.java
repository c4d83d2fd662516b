package dev.gatehouse.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.HostPort;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A client of the admin REST API ({@code /api/v1/...}) for the CLI: one bearer token, JSON in and
 * out, every answer other than 2xx a {@link Problem}. It tells "nothing answered" ({@link
 * Unreachable}: the request never left, so the caller may use the store instead) apart from every
 * other failure, which may have changed something and must never be retried elsewhere.
 */
final class AdminClient {

  /** The environment variable that holds the admin token. */
  static final String TOKEN_ENV = "GATEHOUSE_ADMIN_TOKEN";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(30);

  private final HttpClient http;
  private final URI base;
  private final String token;

  /** A client of the listener at {@code base} (scheme, host and port) sending {@code token}. */
  AdminClient(URI base, String token) {
    this.base = base;
    this.token = token;
    // No proxy: the token goes to the admin listener itself and nowhere else. No redirects: an
    // answer that points elsewhere is an error, never a place to send the token.
    this.http =
        HttpClient.newBuilder()
            .proxy(HttpClient.Builder.NO_PROXY)
            .followRedirects(HttpClient.Redirect.NEVER)
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(CONNECT_TIMEOUT)
            .build();
  }

  /**
   * The admin listener at {@code listen} as a client on this machine reaches it: a wildcard address
   * is reached on loopback, which the listener's Host check accepts.
   */
  static URI baseOf(HostPort listen) {
    String h = listen.host();
    if (h.equals("0.0.0.0")) {
      h = "127.0.0.1";
    } else if (h.equals("::")) {
      h = "[::1]";
    } else if (h.contains(":")) {
      h = "[" + h + "]";
    }
    return URI.create("http://" + h + ":" + listen.port());
  }

  URI base() {
    return base;
  }

  /** One path segment, percent-encoded (an id or an address typed by the user). */
  static String segment(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** GET {@code path}; the answer's JSON. */
  JsonNode get(String path) throws IOException, InterruptedException, Problem {
    return json(send(request(path).GET()));
  }

  /** POST {@code body} as JSON to {@code path}; the answer's JSON. */
  JsonNode post(String path, ObjectNode body) throws IOException, InterruptedException, Problem {
    return json(
        send(
            request(path)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))));
  }

  /** DELETE {@code path}. */
  void delete(String path) throws IOException, InterruptedException, Problem {
    send(request(path).DELETE());
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(base.resolve(path))
        .timeout(ANSWER_TIMEOUT)
        .header("Authorization", "Bearer " + token)
        .header("Accept", "application/json");
  }

  private HttpResponse<String> send(HttpRequest.Builder b)
      throws IOException, InterruptedException, Problem {
    HttpResponse<String> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException | HttpConnectTimeoutException e) {
      // No connection was made, so no request was sent: nothing changed.
      throw new Unreachable(base, e);
    }
    if (r.statusCode() / 100 != 2) {
      throw Problem.of(base, r);
    }
    return r;
  }

  private JsonNode json(HttpResponse<String> r) throws IOException {
    try {
      return JSON.readTree(r.body());
    } catch (JsonProcessingException e) {
      throw new IOException(
          "the admin API at " + base + " answered " + r.statusCode() + " without JSON", e);
    }
  }

  /** Nothing answered at the listener's address: no request reached a gateway. */
  static final class Unreachable extends IOException {
    private static final long serialVersionUID = 1L;

    Unreachable(URI base, IOException cause) {
      super(
          "the admin API at "
              + base
              + " does not answer ("
              + (cause instanceof HttpConnectTimeoutException ? "timed out" : "connection refused")
              + ")",
          cause);
    }
  }

  /**
   * The API answered with an error: an RFC 9457 problem ({@code code}, {@code detail}, {@code
   * request_id}), or another answer that is not 2xx (then {@code code} is {@code http.STATUS}).
   */
  static final class Problem extends Exception {
    private static final long serialVersionUID = 1L;

    final int status;
    final String code;
    final @Nullable String requestId;

    private Problem(int status, String code, String detail, @Nullable String requestId) {
      super(detail, null, false, false);
      this.status = status;
      this.code = code;
      this.requestId = requestId;
    }

    static Problem of(URI base, HttpResponse<String> r) {
      int status = r.statusCode();
      String requestId = r.headers().firstValue("X-Request-Id").orElse(null);
      boolean problem =
          r.headers()
              .firstValue("Content-Type")
              .map(t -> t.startsWith("application/problem+json"))
              .orElse(false);
      if (problem) {
        try {
          JsonNode p = JSON.readTree(r.body());
          String code = p.path("code").asText("");
          String detail = p.path("detail").asText("");
          if (!code.isEmpty()) {
            String id = p.path("request_id").asText("");
            return new Problem(status, code, detail, id.isEmpty() ? requestId : id);
          }
        } catch (JsonProcessingException e) {
          // not a readable problem: reported by its status below
        }
      }
      return new Problem(
          status,
          "http." + status,
          "the admin API at "
              + base
              + " answered "
              + status
              + " (is it a Gatehouse admin listener?)",
          requestId);
    }

    /**
     * The exit status: 2 for a mistake in what was asked (400, 404, 409, 422), as the store path
     * answers a bad argument; 1 for everything else, a refused credential included.
     */
    int exitCode() {
      return status == 400 || status == 404 || status == 409 || status == 422 ? 2 : 1;
    }

    /** One line for stderr: the detail, the code and the request id; a hint for 401 and 403. */
    String describe() {
      String hint =
          switch (status) {
            case 401 ->
                "; the admin token ("
                    + TOKEN_ENV
                    + " or --admin-token-file) was refused: nothing was changed";
            case 403 -> "; this admin token's role may not do this: nothing was changed";
            default -> "";
          };
      return getMessage()
          + " ("
          + code
          + (requestId == null ? "" : ", request " + requestId)
          + ")"
          + hint;
    }
  }
}
