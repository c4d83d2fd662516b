package dev.gatehouse.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.gatehouse.authorize.RouteTable;
import dev.gatehouse.exchange.RequestTarget;
import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Fuzzes route classification behind the request-target check. Invariants: a target the gateway
 * accepts classifies exactly as its normalised path does (as a naive upstream would read it:
 * decoded, dot segments resolved, slashes collapsed), and a target whose naive reading is an admin
 * or state-changing route of any server ({@code shared/reference/llm-endpoints.md}) never
 * classifies as a route at all. Seeds under {@code
 * src/test/resources/dev/gatehouse/fuzz/RouteTableFuzzTestInputs/} run as regression cases.
 */
class RouteTableFuzzTest {

  static final RouteTable TABLE = RouteTable.standard();
  static final List<String> METHODS = List.of("GET", "HEAD", "POST", "DELETE", "PUT");

  /** Admin routes that stay unknown, by their normalised path prefix. */
  static final List<String> ADMIN =
      List.of(
          "/collective_rpc",
          "/sleep",
          "/wake_up",
          "/is_sleeping",
          "/server_info",
          "/reset_prefix_cache",
          "/reset_mm_cache",
          "/reset_encoder_cache",
          "/start_profile",
          "/stop_profile",
          "/v1/load_lora_adapter",
          "/v1/unload_lora_adapter",
          "/scale_elastic_ep",
          "/is_scaling_elastic_ep",
          "/pause",
          "/resume",
          "/update_weights",
          "/abort_requests",
          "/invocations",
          "/models",
          "/tools",
          "/cors-proxy",
          "/predict",
          "/v1/streams",
          "/v1/stream/",
          "/backends",
          "/backend/",
          "/api/cors-proxy",
          "/api/agent/",
          "/api/p2p/",
          "/system",
          "/api/traces",
          "/api/v1/models/load",
          "/api/v1/models/unload",
          "/api/v1/models/download",
          "/v1/responses/");

  @FuzzTest(maxDuration = "15s")
  void classify(byte[] input) {
    String raw = new String(input, java.nio.charset.StandardCharsets.ISO_8859_1);
    check(raw);
  }

  static void check(String raw) {
    RequestTarget t = RequestTarget.parse(raw);
    if (t == null) {
      return; // refused with 400 before any route is looked at
    }
    String naive = naive(raw);
    for (String method : METHODS) {
      RouteTable.Match m = TABLE.match(method, t.path());
      if (naive != null) {
        RouteTable.Match n = TABLE.match(method, naive);
        assertThat(m.route())
            .as("%s %s vs its normalisation %s", method, raw, naive)
            .isEqualTo(n.route());
        if (m.route() != null) {
          for (String admin : ADMIN) {
            boolean hit =
                naive.equals(admin)
                    || (admin.endsWith("/")
                        ? naive.startsWith(admin) && !naive.startsWith("/v1/responses/input_tokens")
                        : naive.startsWith(admin + "/"));
            assertThat(hit).as("%s %s reads as admin route %s", method, raw, admin).isFalse();
          }
        }
      }
    }
  }

  /**
   * How a lenient upstream reads a target's path: decoded, dots resolved, slashes collapsed; null
   * if it cannot.
   */
  static String naive(String raw) {
    int q = raw.indexOf('?');
    String p = q < 0 ? raw : raw.substring(0, q);
    try {
      String decoded =
          java.net.URLDecoder.decode(
              p.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
      String collapsed = decoded.replaceAll("/+", "/");
      String n = URI.create("http://h" + collapsed.replace(" ", "%20")).normalize().getRawPath();
      return n == null || n.isEmpty() ? "/" : n.toLowerCase(Locale.ROOT).equals(n) || true ? n : n;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
