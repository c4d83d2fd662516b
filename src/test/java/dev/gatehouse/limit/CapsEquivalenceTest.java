package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.testing.BodyCorpus;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The request caps decide the same on the policy fields the body reader keeps as they did on the
 * full tree: the same refusal (code and message) and the same "the body must change", for every
 * body of the corpus, on every route shape, in both modes; and so does asking for usage.
 */
class CapsEquivalenceTest {

  static final List<String> PATHS =
      List.of(
          "/api/generate",
          "/api/chat",
          "/api/embed",
          "/v1/chat/completions",
          "/v1/completions",
          "/v1/responses",
          "/v1/messages",
          "/completion",
          "/v1/images/generations",
          "/api/v0/chat/completions",
          "/v1/embeddings");

  static final List<GatehouseConfig.Caps> CAPS =
      List.of(
          new GatehouseConfig.Caps(false, 100, 2048, 2, Duration.ofMinutes(10), 2, 200, 3, 50),
          new GatehouseConfig.Caps(true, 100, 2048, 2, Duration.ofMinutes(10), 2, 200, 3, 50),
          new GatehouseConfig.Caps(
              false, 4096, 32768, 8, Duration.ofHours(1), 16, 20_000_000, 500, 1_000_000));

  static List<String> corpus() throws IOException {
    List<String> all = new ArrayList<>(BodyCorpus.HAND);
    all.addAll(BodyCorpus.dataset());
    all.addAll(BodyCorpus.generated(7, 2000));
    return all;
  }

  @Test
  void capsDecideTheSameOnThePolicyFields() throws IOException {
    int compared = 0;
    for (String body : corpus()) {
      ObjectNode full = BodyCorpus.full(body);
      if (full == null || dev.gatehouse.exchange.JsonFields.hasAmbiguousNames(full)) {
        continue; // refused by the body reader
      }
      ObjectNode fields = java.util.Objects.requireNonNull(BodyCorpus.fields(body));
      for (GatehouseConfig.Caps c : CAPS) {
        RequestCaps caps = new RequestCaps(c);
        for (String path : PATHS) {
          for (Integer keyMax : new Integer[] {null, 1}) {
            RequestCaps.Result was = caps.apply(path, full.deepCopy(), keyMax);
            RequestCaps.Result is = caps.apply(path, fields.deepCopy(), keyMax);
            assertThat(String.valueOf(is)).as(path + " " + body).isEqualTo(String.valueOf(was));
            assertThat(Limiter.needsUsage(path, fields))
                .as(path + " " + body)
                .isEqualTo(Limiter.needsUsage(path, full));
            compared++;
          }
        }
      }
    }
    assertThat(compared).isGreaterThan(10_000);
  }
}
