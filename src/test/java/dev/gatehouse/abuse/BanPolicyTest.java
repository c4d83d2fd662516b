package dev.gatehouse.abuse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.BanRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Escalation and merging, as pure functions. */
class BanPolicyTest {

  static final Duration BASE = Duration.ofMinutes(10);
  static final Duration MAX = Duration.ofHours(24);
  static final Instant NOW = Instant.parse("2026-01-15T12:00:00Z");

  static BanRecord ended(int times, Instant until) {
    return new BanRecord(
        "203.0.113.7",
        until.minus(BASE),
        until,
        times,
        "auto",
        List.of("r"),
        until.minus(BASE),
        until,
        3,
        List.of("/"));
  }

  @Test
  void eachRepeatDoublesUpToTheCap() {
    assertThat(BanPolicy.length(1, BASE, MAX)).isEqualTo(Duration.ofMinutes(10));
    assertThat(BanPolicy.length(2, BASE, MAX)).isEqualTo(Duration.ofMinutes(20));
    assertThat(BanPolicy.length(3, BASE, MAX)).isEqualTo(Duration.ofMinutes(40));
    assertThat(BanPolicy.length(8, BASE, MAX)).isEqualTo(Duration.ofMinutes(1280));
    assertThat(BanPolicy.length(9, BASE, MAX)).isEqualTo(MAX);
    assertThat(BanPolicy.length(10_000, BASE, MAX)).isEqualTo(MAX);
  }

  @Test
  void aCleanSpellAsLongAsTheCapStartsOver() {
    assertThat(BanPolicy.nextTimes(null, NOW, MAX)).isEqualTo(1);
    assertThat(BanPolicy.nextTimes(ended(3, NOW.minus(Duration.ofHours(23))), NOW, MAX))
        .isEqualTo(4);
    assertThat(BanPolicy.nextTimes(ended(3, NOW.minus(Duration.ofHours(25))), NOW, MAX))
        .isEqualTo(1);
  }

  @Test
  void aBanInForceIsNeverShortenedAndEvidenceAccumulates() {
    BanRecord forever =
        new BanRecord(
            "203.0.113.7", NOW, null, 1, "manual", List.of("manual"), NOW, NOW, 0, List.of());
    BanRecord next =
        BanPolicy.apply(
            forever,
            "203.0.113.7",
            NOW.plusSeconds(5),
            NOW.plusSeconds(600),
            2,
            "auto",
            "probe: x",
            new BanPolicy.Evidence(NOW.minusSeconds(60), 4, List.of("/.env", "/")));
    assertThat(next.bannedUntil()).isNull();
    assertThat(next.reasons()).containsExactly("manual", "probe: x");
    assertThat(next.requests()).isEqualTo(4);
    assertThat(next.firstSeen()).isEqualTo(NOW.minusSeconds(60));
    assertThat(next.samplePaths()).containsExactly("/.env", "/");
  }

  @Test
  void samplePathsAreBoundedAndPrintable() {
    assertThat(BanPolicy.samplePath("/a b\u0001\u00e9")).isEqualTo("/a?b??");
    assertThat(BanPolicy.samplePath("/" + "x".repeat(500))).hasSize(200);
    assertThat(BanPolicy.samplePath(null)).isEqualTo("-");
  }
}
