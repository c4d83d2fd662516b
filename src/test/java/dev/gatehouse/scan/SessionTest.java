package dev.gatehouse.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.doctor.HttpProbe;
import dev.gatehouse.doctor.Session;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The per-target bound: never more than the budget, never faster than the interval. */
class SessionTest {

  @Test
  void neverSendsMoreThanTheBudgetNorFasterThanTheInterval() {
    List<Long> sentAt = new ArrayList<>();
    HttpProbe counting =
        (base, r) -> {
          sentAt.add(System.nanoTime());
          return new HttpProbe.Response(200, Map.of(), "");
        };
    Session s = new Session(counting, URI.create("http://127.0.0.1:1"), 5, Duration.ofMillis(30));
    for (int i = 0; i < 12; i++) {
      s.send(HttpProbe.Request.get("/"));
    }
    assertThat(sentAt).hasSize(5);
    assertThat(s.sent()).isEqualTo(5);
    assertThat(s.exhausted()).isTrue();
    for (int i = 1; i < sentAt.size(); i++) {
      assertThat(sentAt.get(i) - sentAt.get(i - 1))
          .isGreaterThanOrEqualTo(Duration.ofMillis(30).toNanos());
    }
  }
}
