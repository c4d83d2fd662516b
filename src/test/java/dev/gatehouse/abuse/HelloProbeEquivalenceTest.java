package dev.gatehouse.abuse;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.exchange.JsonFields;
import dev.gatehouse.testing.BodyCorpus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Probe scoring sees the same stock-prompt probes in the policy fields as in the full tree. */
class HelloProbeEquivalenceTest {

  @Test
  void theSameProbesAreSeen() {
    List<String> all = new ArrayList<>(BodyCorpus.HAND);
    all.addAll(BodyCorpus.generated(9, 3000));
    for (String prompt : List.of("Hello", "hi", "test", "What is 2+2?", "ping", "Say hello")) {
      all.add("{\"model\":\"m\",\"max_tokens\":1,\"prompt\":\"" + prompt + "\"}");
      all.add(
          "{\"model\":\"m\",\"options\":{\"num_predict\":0},\"messages\":[{\"role\":\"user\","
              + "\"content\":\""
              + prompt
              + "\"}]}");
    }
    int probes = 0;
    for (String body : all) {
      ObjectNode full = BodyCorpus.full(body);
      if (full == null || JsonFields.hasAmbiguousNames(full)) {
        continue;
      }
      boolean was = ProbeDetector.helloProbe(full);
      assertThat(ProbeDetector.helloProbe(BodyCorpus.fields(body))).as(body).isEqualTo(was);
      probes += was ? 1 : 0;
    }
    assertThat(probes).isGreaterThan(3);
  }
}
