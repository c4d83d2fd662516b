package dev.gatehouse.guard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.exchange.JsonFields;
import dev.gatehouse.testing.BodyCorpus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The guard finds the same texts, with the same sources and message indices, in the policy fields
 * the body reader keeps as in the full tree, on every endpoint shape and in every scope.
 */
class PromptTextEquivalenceTest {

  static final List<String> PATHS =
      List.of(
          "/api/generate",
          "/api/chat",
          "/v1/chat/completions",
          "/v1/completions",
          "/completion",
          "/v1/responses",
          "/v1/messages");

  private static List<String> shown(List<PromptText.Slot> slots) {
    List<String> out = new ArrayList<>();
    for (PromptText.Slot s : slots) {
      out.add(s.source() + "#" + s.message() + ":" + s.field() + "/" + s.index() + "=" + s.text());
    }
    return out;
  }

  @Test
  void theGuardReadsTheSameTexts() throws IOException {
    List<String> all = new ArrayList<>(BodyCorpus.HAND);
    all.addAll(BodyCorpus.dataset());
    all.addAll(BodyCorpus.generated(3, 3000));
    int slots = 0;
    for (String body : all) {
      ObjectNode full = BodyCorpus.full(body);
      if (full == null || JsonFields.hasAmbiguousNames(full)) {
        continue;
      }
      ObjectNode fields = java.util.Objects.requireNonNull(BodyCorpus.fields(body));
      for (String path : PATHS) {
        List<String> was = shown(PromptText.all(path, full));
        assertThat(shown(PromptText.all(path, fields))).as(path + " " + body).isEqualTo(was);
        slots += was.size();
        for (PromptText.Scope scope : PromptText.Scope.values()) {
          assertThat(shown(PromptText.inScope(path, fields, scope)))
              .as(scope + " " + path + " " + body)
              .isEqualTo(shown(PromptText.inScope(path, full, scope)));
        }
      }
    }
    assertThat(slots).isGreaterThan(1000);
  }
}
