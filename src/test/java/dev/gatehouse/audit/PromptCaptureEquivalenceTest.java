package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.exchange.JsonFields;
import dev.gatehouse.testing.BodyCorpus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The audit's prompt capture reads the same text from the policy fields as from the full tree. */
class PromptCaptureEquivalenceTest {

  @Test
  void theAuditCapturesTheSameText() throws IOException {
    List<String> all = new ArrayList<>(BodyCorpus.HAND);
    all.addAll(BodyCorpus.dataset());
    all.addAll(BodyCorpus.generated(5, 3000));
    int texts = 0;
    for (String body : all) {
      ObjectNode full = BodyCorpus.full(body);
      if (full == null || JsonFields.hasAmbiguousNames(full)) {
        continue;
      }
      String was = PromptCapture.text(full);
      assertThat(PromptCapture.text(BodyCorpus.fields(body))).as(body).isEqualTo(was);
      texts += was == null ? 0 : 1;
    }
    assertThat(texts).isGreaterThan(300);
  }
}
