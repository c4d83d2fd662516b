package dev.gatehouse.doctor;

import java.io.IOException;
import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The way every check sends one HTTP request and gets what came back: the seam between the checks
 * and the network: {@link JdkHttpProbe} is the real one, tests give canned answers. Implementations
 * are used from one thread at a time.
 */
public interface HttpProbe {

  /**
   * A request to send.
   *
   * @param method the HTTP method
   * @param path the path (and query) under the target's base URL
   * @param headers extra request headers
   * @param body a JSON body, or null for none
   */
  record Request(String method, String path, Map<String, String> headers, @Nullable String body) {
    public Request {
      headers = Map.copyOf(headers);
    }

    public static Request get(String path) {
      return new Request("GET", path, Map.of(), null);
    }

    /** {@code GET /path}, as shown in evidence. */
    public String line() {
      return method + " " + path;
    }
  }

  /**
   * What came back.
   *
   * @param status the status code
   * @param headers header names in lower case; repeated headers joined with {@code ", "}
   * @param body at most the first 64 KiB of the body, decoded as UTF-8
   */
  record Response(int status, Map<String, String> headers, String body) {
    public Response {
      Map<String, String> lower = new TreeMap<>();
      headers.forEach((k, v) -> lower.merge(k.toLowerCase(Locale.ROOT), v, (a, b) -> a + ", " + b));
      headers = java.util.Collections.unmodifiableMap(lower);
      body = body == null ? "" : body;
    }

    /** A header's value, or null. */
    public @Nullable String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** Sends {@code request} to {@code base} plus the request's path. */
  Response send(URI base, Request request) throws IOException;
}
