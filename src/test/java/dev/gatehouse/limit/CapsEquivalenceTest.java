package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.JsonFields;
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

  @Test
  void aClampGoesToTheFieldTheCapsRead() throws IOException {
    // why: Java's equalsIgnoreCase matches "keep_alıve" (dotless i) to keep_alive, Go's
    // EqualFold (Ollama) does not; the clamp once went to such a field first in the body and left
    // the one the caps read (and Ollama uses, -1: loaded forever) as sent. On the full tree (the
    // fallback) as on the policy fields, the field read is the field changed
    RequestCaps caps = new RequestCaps(CAPS.get(0));
    for (String body :
        List.of(
            "{\"model\":\"m\",\"keep_al\u0131ve\":1,\"KEEP_ALIVE\":-1}",
            "{\"model\":\"m\",\"options\":{\"num_pred\u0131ct\":1,\"NUM_PREDICT\":99999}}",
            "{\"model\":\"m\",\"options\":{\"num_pred\u0130ct\":1,\"Num_Predict\":4096.0}}")) {
      for (ObjectNode tree :
          List.of(
              java.util.Objects.requireNonNull(BodyCorpus.full(body)),
              java.util.Objects.requireNonNull(BodyCorpus.fields(body)))) {
        assertThat(caps.apply("/api/chat", tree, null).changed()).isTrue();
        assertThat(tree.at("/KEEP_ALIVE").asText("600s")).as(body).isEqualTo("600s");
        assertThat(tree.toString()).as("the look-alike is left as sent").contains("\":1");
        if (body.contains("options")) {
          // why: Ollama reads options (a map) by exact name only: it ignores NUM_PREDICT, so the
          // cap goes to num_predict, added, and the other spellings are left as sent
          assertThat(tree.at("/options/num_predict").asInt()).as(body).isEqualTo(100);
        }
      }
    }
  }

  @Test
  void anOptionSpelledInAnotherCaseIsNotTakenForTheCap() throws IOException {
    // why: {"options":{"NUM_PREDICT":5}} once passed as a request capped at 5, while Ollama,
    // which matches option names exactly, ignored it and generated without any cap
    RequestCaps caps = new RequestCaps(CAPS.get(0));
    for (String body :
        List.of(
            "{\"model\":\"m\",\"options\":{\"NUM_PREDICT\":5}}",
            "{\"model\":\"m\",\"options\":{\"Num_Predict\":5,\"NUM_CTX\":64}}",
            "{\"model\":\"m\",\"Options\":{\"NUM_PREDICT\":5}}")) {
      for (ObjectNode tree :
          List.of(
              java.util.Objects.requireNonNull(BodyCorpus.full(body)),
              java.util.Objects.requireNonNull(BodyCorpus.fields(body)))) {
        assertThat(caps.apply("/api/generate", tree, null).changed()).as(body).isTrue();
        JsonNode options = JsonFields.get(tree, "options");
        assertThat(options).as(body).isNotNull();
        assertThat(options.get("num_predict").asInt()).as(body).isEqualTo(100);
      }
    }
    // why: a num_ctx Ollama ignores is no context the gateway must check, but the real one is
    ObjectNode big = BodyCorpus.fields("{\"model\":\"m\",\"options\":{\"num_ctx\":999999}}");
    assertThat(caps.apply("/api/generate", big, null).changed()).isTrue();
    assertThat(big.at("/options/num_ctx").asInt()).isEqualTo(2048);
  }
}
