package dev.gatehouse.store.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.KeyRecord;
import dev.gatehouse.store.KeyStore;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What every {@link KeyStore} must do, whatever it is backed by. SQLite runs it now ({@code
 * SqliteContractTest}); a PostgreSQL store will run the same tests.
 */
public abstract class KeyStoreContract extends StoreContract<KeyStore> {

  static KeyRecord key(String id, Instant created) {
    return new KeyRecord(
        id,
        "name-" + id,
        ("hash-" + id).getBytes(StandardCharsets.UTF_8),
        List.of("inference"),
        List.of("tiny*"),
        created,
        null,
        null,
        null);
  }

  @Test
  void aKeyInsertedIsFoundWithEveryFieldAsStored() {
    Instant t = Instant.parse("2026-01-02T03:04:05Z");
    store.insert(key("k1", t));
    KeyRecord r = store.find("k1").orElseThrow();
    assertThat(r.name()).isEqualTo("name-k1");
    assertThat(r.hash()).isEqualTo("hash-k1".getBytes(StandardCharsets.UTF_8));
    assertThat(r.scopes()).containsExactly("inference");
    assertThat(r.models()).containsExactly("tiny*");
    assertThat(r.createdAt()).isEqualTo(t);
    assertThat(r.revokedAt()).isNull();
    assertThat(store.find("nope")).isEmpty();
  }

  @Test
  void listIsNewestFirst() {
    store.insert(key("old", Instant.parse("2026-01-01T00:00:00Z")));
    store.insert(key("new", Instant.parse("2026-02-01T00:00:00Z")));
    assertThat(store.list()).extracting(KeyRecord::id).containsExactly("new", "old");
  }

  @Test
  void revokeOnceAndOnlyOnce() {
    store.insert(key("k1", Instant.parse("2026-01-01T00:00:00Z")));
    Instant at = Instant.parse("2026-03-01T00:00:00Z");
    assertThat(store.revoke("k1", at)).isTrue();
    assertThat(store.revoke("k1", at)).as("already revoked").isFalse();
    assertThat(store.revoke("missing", at)).isFalse();
    assertThat(store.find("k1").orElseThrow().revokedAt()).isEqualTo(at);
    assertThat(store.find("k1").orElseThrow().activeAt(at.plusSeconds(1))).isFalse();
  }

  @Test
  void rotateStoresTheNewKeyAndEndsTheOld() {
    store.insert(key("old", Instant.parse("2026-01-01T00:00:00Z")));
    Instant until = Instant.parse("2026-04-01T00:00:00Z");
    store.rotate("old", key("new", Instant.parse("2026-03-01T00:00:00Z")), until);
    assertThat(store.find("new")).isPresent();
    KeyRecord old = store.find("old").orElseThrow();
    assertThat(old.expiresAt()).isEqualTo(until);
    assertThat(old.rotatedTo()).isEqualTo("new");
  }

  @Test
  void aRevokedOrMissingKeyCannotBeRotated() {
    store.insert(key("k1", Instant.parse("2026-01-01T00:00:00Z")));
    store.revoke("k1", Instant.parse("2026-01-02T00:00:00Z"));
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                store.rotate(
                    "k1",
                    key("k2", Instant.parse("2026-01-03T00:00:00Z")),
                    Instant.parse("2026-01-04T00:00:00Z")))
        .isInstanceOf(dev.gatehouse.store.StoreException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                store.rotate(
                    "none",
                    key("k3", Instant.parse("2026-01-03T00:00:00Z")),
                    Instant.parse("2026-01-04T00:00:00Z")))
        .isInstanceOf(dev.gatehouse.store.StoreException.class);
    assertThat(store.find("k2")).as("nothing half done").isEmpty();
    assertThat(store.find("k3")).isEmpty();
  }

  @Test
  void everyChangeMovesTheVersionAndReadsDoNot() {
    try (KeyStore.VersionProbe probe = store.openVersionProbe()) {
      long v0 = probe.version();
      store.list();
      store.find("x");
      assertThat(probe.version()).as("reads change nothing").isEqualTo(v0);
      store.insert(key("k1", Instant.parse("2026-01-01T00:00:00Z")));
      long v1 = probe.version();
      assertThat(v1).isNotEqualTo(v0);
      store.revoke("k1", Instant.parse("2026-01-02T00:00:00Z"));
      long v2 = probe.version();
      assertThat(v2).isNotEqualTo(v1);
      store.insert(key("k3", Instant.parse("2026-01-03T00:00:00Z")));
      long v3 = probe.version();
      store.rotate(
          "k3",
          key("k4", Instant.parse("2026-01-03T00:00:00Z")),
          Instant.parse("2026-01-04T00:00:00Z"));
      assertThat(probe.version()).isNotEqualTo(v3);
    }
  }
}
