package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.GatewayFixture;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Capped fields read as exact integers, through a real gateway: whatever the client sends, the
 * upstream receives a value within the caps, or nothing at all.
 */
class ExactCapsTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final int OUT = 512;
  static final int CTX = 8192;
  static GatewayFixture clamp;
  static GatewayFixture reject;

  @BeforeAll
  static void start() throws Exception {
    clamp =
        GatewayFixture.start(Map.of("caps.max_output_tokens", "" + OUT, "caps.num_ctx", "" + CTX));
    reject =
        GatewayFixture.start(
            Map.of(
                "caps.mode",
                "reject",
                "caps.max_output_tokens",
                "" + OUT,
                "caps.num_ctx",
                "" + CTX));
  }

  @AfterAll
  static void stop() {
    clamp.close();
    reject.close();
  }

  /** The numbers to try, as JSON text, with whether each is a whole number within the caps. */
  static final List<String> HUGE =
      List.of(
          "18446744073709551615", // 2^64-1: read as -1 by a 64-bit signed reader
          "1180591620717411303424", // 2^70
          "9223372036854775808", // 2^63
          "1e30",
          "1E+30",
          "8193",
          "4096.0e1",
          "1e400");

  static final List<String> NOT_WHOLE =
      List.of("4096.5", "\"4096\"", "true", "[1]", "{}", "0.1", "-0.5");
  static final List<String> NEGATIVE =
      List.of("-1", "-18446744073709551615", "-1180591620717411303424", "-1e30");

  /** Each capped field, in the route and body place it lives in. */
  static final List<String[]> FIELDS =
      List.of(
          new String[] {
            "/api/generate",
            "{\"model\":\"m\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_ctx\":%s}}",
            "/options/num_ctx",
            "ctx"
          },
          new String[] {
            "/api/generate",
            "{\"model\":\"m\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":%s}}",
            "/options/num_predict",
            "out-"
          },
          new String[] {
            "/api/embed",
            "{\"model\":\"m\",\"input\":\"x\",\"options\":{\"num_ctx\":%s}}",
            "/options/num_ctx",
            "ctx"
          },
          new String[] {
            "/v1/chat/completions",
            "{\"model\":\"m\",\"messages\":[],\"max_tokens\":%s}",
            "/max_tokens",
            "out"
          },
          new String[] {
            "/v1/chat/completions",
            "{\"model\":\"m\",\"messages\":[],\"max_completion_tokens\":%s}",
            "/max_completion_tokens",
            "out"
          },
          new String[] {
            "/v1/chat/completions",
            "{\"model\":\"m\",\"messages\":[],\"n_predict\":%s}",
            "/n_predict",
            "out-"
          },
          new String[] {
            "/v1/chat/completions", "{\"model\":\"m\",\"messages\":[],\"n\":%s}", "/n", "n"
          },
          new String[] {
            "/v1/completions", "{\"model\":\"m\",\"prompt\":\"x\",\"best_of\":%s}", "/best_of", "n"
          },
          new String[] {
            "/v1/responses",
            "{\"model\":\"m\",\"input\":\"x\",\"max_output_tokens\":%s}",
            "/max_output_tokens",
            "out"
          },
          new String[] {
            "/v1/messages",
            "{\"model\":\"m\",\"messages\":[],\"max_tokens\":%s}",
            "/max_tokens",
            "out"
          },
          new String[] {
            "/completion",
            "{\"model\":\"m\",\"prompt\":\"x\",\"n_predict\":%s}",
            "/n_predict",
            "out-"
          },
          new String[] {
            "/api/v0/chat/completions",
            "{\"model\":\"m\",\"messages\":[],\"max_tokens\":%s}",
            "/max_tokens",
            "out"
          });

  static int capOf(String kind) {
    return kind.startsWith("out") ? OUT : kind.equals("ctx") ? CTX : 1;
  }

  @Test
  void hugeNumbersAreClampedExactlyOrRefused() throws Exception {
    // why: 2^64-1 and 2^70 escaped a check that read them as a long
    for (String[] f : FIELDS) {
      for (String n : HUGE) {
        String body = String.format(f[1], n);
        clamp.upstream.reset();
        var r = clamp.post(f[0], clamp.newKey(), body);
        if (n.equals("1e400")) {
          assertThat(r.statusCode()).as("%s %s", f[0], body).isEqualTo(400);
          assertThat(clamp.upstream.requests()).isEmpty();
          continue;
        }
        assertThat(r.statusCode()).as("%s %s: %s", f[0], body, r.body()).isEqualTo(200);
        JsonNode sent = JSON.readTree(clamp.upstream.requests().get(0).body()).at(f[2]);
        assertThat(sent.isIntegralNumber()).as("%s %s sent %s", f[0], body, sent).isTrue();
        assertThat(sent.bigIntegerValue())
            .as("%s %s", f[0], body)
            .isEqualTo(BigInteger.valueOf(capOf(f[3])));
        reject.upstream.reset();
        var refused = reject.post(f[0], reject.newKey(), body);
        assertThat(refused.statusCode()).as("reject mode %s %s", f[0], body).isEqualTo(400);
        assertThat(refused.body()).contains("limit.cap_exceeded");
        assertThat(reject.upstream.requests()).isEmpty();
      }
    }
  }

  @Test
  void fractionsStringsAndOtherTypesAreRefused() throws Exception {
    // why: a string or a fraction is read differently by each server's decoder
    for (String[] f : FIELDS) {
      for (String n : NOT_WHOLE) {
        String body = String.format(f[1], n);
        clamp.upstream.reset();
        var r = clamp.post(f[0], clamp.newKey(), body);
        assertThat(r.statusCode()).as("%s %s", f[0], body).isEqualTo(400);
        assertThat(r.body()).contains("limit.cap_exceeded");
        assertThat(clamp.upstream.requests()).isEmpty();
      }
    }
  }

  @Test
  void negativeNumbersAreUnlimitedWhereTheServerSaysSoAndRefusedElsewhere() throws Exception {
    // why: num_predict -1 is "infinite"; a huge negative must not wrap to a small positive
    for (String[] f : FIELDS) {
      for (String n : NEGATIVE) {
        String body = String.format(f[1], n);
        clamp.upstream.reset();
        var r = clamp.post(f[0], clamp.newKey(), body);
        if (f[3].equals("out-")) {
          assertThat(r.statusCode()).as("%s %s", f[0], body).isEqualTo(200);
          assertThat(JSON.readTree(clamp.upstream.requests().get(0).body()).at(f[2]).asInt())
              .isEqualTo(OUT);
        } else {
          assertThat(r.statusCode()).as("%s %s", f[0], body).isEqualTo(400);
          assertThat(clamp.upstream.requests()).isEmpty();
        }
      }
    }
  }

  @Test
  void integralFloatsWithinTheCapsAreForwardedAsIntegers() throws Exception {
    // why: 4096.0 and 1e2 are whole numbers that Ollama's option decoder accepts; -0 is 0
    for (String n : List.of("100.0", "1e2", "1.0E2", "-0", "-0.0", "100")) {
      clamp.upstream.reset();
      var r =
          clamp.post(
              "/v1/chat/completions",
              clamp.newKey(),
              "{\"model\":\"m\",\"messages\":[],\"max_tokens\":" + n + "}");
      assertThat(r.statusCode()).as(n).isEqualTo(200);
      JsonNode sent = JSON.readTree(clamp.upstream.requests().get(0).body()).get("max_tokens");
      assertThat(sent.isIntegralNumber()).as(n + " sent as " + sent).isTrue();
      assertThat(sent.asInt()).isEqualTo(n.startsWith("-0") ? 0 : 100);
    }
  }

  @Test
  void keepAliveIsReadExactly() throws Exception {
    // why: a keep_alive of 2^70 seconds or -2^70 must not wrap past the cap
    for (String n :
        List.of(
            "1180591620717411303424",
            "-1180591620717411303424",
            "1e30",
            "\"99999999999999999999h\"")) {
      clamp.upstream.reset();
      var r =
          clamp.post(
              "/api/generate",
              clamp.newKey(),
              "{\"model\":\"m\",\"prompt\":\"x\",\"stream\":false,\"keep_alive\":" + n + "}");
      assertThat(r.statusCode()).as(n).isEqualTo(200);
      assertThat(JSON.readTree(clamp.upstream.requests().get(0).body()).get("keep_alive").asText())
          .as(n)
          .endsWith("s");
      assertThat(JSON.readTree(clamp.upstream.requests().get(0).body()).get("keep_alive").asText())
          .as(n)
          .doesNotContain("-");
    }
    clamp.upstream.reset();
    assertThat(
            clamp
                .post(
                    "/api/generate",
                    clamp.newKey(),
                    "{\"model\":\"m\",\"prompt\":\"x\",\"keep_alive\":1e400}")
                .statusCode())
        .isEqualTo(400);
    assertThat(clamp.upstream.requests()).isEmpty();
  }
}
