package dev.gatehouse.store.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.BanRecord;
import dev.gatehouse.store.BanStore;
import dev.gatehouse.store.KeyStore;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What every {@link BanStore} must do, whatever it is backed by. */
public abstract class BanStoreContract extends StoreContract<BanStore> {

  static BanRecord ban(String ip, Instant at, Instant until) {
    return new BanRecord(ip, at, until, 1, "cli", List.of("test"), at, at, 0, List.of());
  }

  @Test
  void updateCreatesThenChangesOneRow() {
    Instant t = Instant.parse("2026-01-01T00:00:00Z");
    BanRecord first =
        store.updateBan(
            "203.0.113.9",
            old -> {
              assertThat(old).as("no row yet").isNull();
              return ban("203.0.113.9", t, null);
            });
    assertThat(first.ip()).isEqualTo("203.0.113.9");
    store.updateBan(
        "203.0.113.9",
        old -> {
          assertThat(old).isNotNull();
          return new BanRecord(
              old.ip(),
              old.bannedAt(),
              t.plusSeconds(60),
              old.times() + 1,
              old.source(),
              old.reasons(),
              old.firstSeen(),
              old.lastSeen(),
              old.requests(),
              old.samplePaths());
        });
    BanRecord r = store.findBan("203.0.113.9").orElseThrow();
    assertThat(r.times()).isEqualTo(2);
    assertThat(r.bannedUntil()).isEqualTo(t.plusSeconds(60));
    assertThat(store.listBans()).extracting(BanRecord::ip).containsExactly("203.0.113.9");
  }

  @Test
  void removeOnlyWhatIsThere() {
    store.updateBan(
        "198.51.100.1", old -> ban("198.51.100.1", Instant.parse("2026-01-01T00:00:00Z"), null));
    assertThat(store.removeBan("198.51.100.1")).isTrue();
    assertThat(store.removeBan("198.51.100.1")).isFalse();
    assertThat(store.findBan("198.51.100.1")).isEmpty();
  }

  @Test
  void hitsAddToARowAndIgnoreAMissingOne() {
    Instant t = Instant.parse("2026-01-01T00:00:00Z");
    store.updateBan("192.0.2.7", old -> ban("192.0.2.7", t, null));
    store.recordBanHits("192.0.2.7", 3, t.plusSeconds(5), List.of("/api/tags"));
    store.recordBanHits("192.0.2.8", 3, t.plusSeconds(5), List.of("/"));
    BanRecord r = store.findBan("192.0.2.7").orElseThrow();
    assertThat(r.requests()).isEqualTo(3);
    assertThat(r.lastSeen()).isEqualTo(t.plusSeconds(5));
    assertThat(r.samplePaths()).contains("/api/tags");
    assertThat(store.findBan("192.0.2.8")).isEmpty();
  }

  @Test
  void decisionsMoveTheVersionAndHitsDoNot() {
    try (KeyStore.VersionProbe probe = store.openBanVersionProbe()) {
      long v0 = probe.version();
      Instant t = Instant.parse("2026-01-01T00:00:00Z");
      store.updateBan("192.0.2.1", old -> ban("192.0.2.1", t, null));
      long v1 = probe.version();
      assertThat(v1).isNotEqualTo(v0);
      store.recordBanHits("192.0.2.1", 1, t, List.of("/"));
      assertThat(probe.version()).as("hits change no decision").isEqualTo(v1);
      store.removeBan("192.0.2.1");
      assertThat(probe.version()).isNotEqualTo(v1);
    }
  }
}
