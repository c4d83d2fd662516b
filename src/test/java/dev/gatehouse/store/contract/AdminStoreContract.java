package dev.gatehouse.store.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.store.AdminRecord;
import dev.gatehouse.store.AdminStore;
import dev.gatehouse.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What every {@link AdminStore} must do, whatever it is backed by. */
public abstract class AdminStoreContract extends StoreContract<AdminStore> {

  static final Instant T = Instant.parse("2026-01-02T03:04:05Z");

  static AdminRecord admin(String id, String role, Instant created) {
    return new AdminRecord(
        id,
        "name-" + id,
        role,
        ("hash-" + id).getBytes(StandardCharsets.UTF_8),
        created,
        null,
        null);
  }

  @Test
  void aCredentialInsertedIsFoundWithEveryFieldAsStored() {
    store.insertAdmin(admin("a1", "operator", T));
    AdminRecord r = store.findAdmin("a1").orElseThrow();
    assertThat(r.name()).isEqualTo("name-a1");
    assertThat(r.role()).isEqualTo("operator");
    assertThat(r.hash()).isEqualTo("hash-a1".getBytes(StandardCharsets.UTF_8));
    assertThat(r.createdAt()).isEqualTo(T);
    assertThat(r.revokedAt()).isNull();
    assertThat(r.lastUsedAt()).isNull();
    assertThat(r.active()).isTrue();
    assertThat(store.findAdmin("nope")).isEmpty();
  }

  @Test
  void listIsNewestFirstAndKeepsRevokedOnes() {
    store.insertAdmin(admin("old", "admin", T));
    store.insertAdmin(admin("new", "viewer", T.plusSeconds(60)));
    assertThat(store.revokeAdmin("new", T.plusSeconds(120))).isEqualTo(AdminStore.Revoke.REVOKED);
    assertThat(store.listAdmins()).extracting(AdminRecord::id).containsExactly("new", "old");
    assertThat(store.listAdmins().getFirst().revokedAt()).isEqualTo(T.plusSeconds(120));
  }

  @Test
  void theLastActiveAdminCannotBeRevoked() {
    // why: without an active admin, nobody could manage credentials through the API again
    store.insertAdmin(admin("a1", "admin", T));
    store.insertAdmin(admin("v1", "viewer", T));
    assertThat(store.revokeAdmin("a1", T)).isEqualTo(AdminStore.Revoke.LAST_ADMIN);
    assertThat(store.findAdmin("a1").orElseThrow().active()).isTrue();
    assertThat(store.revokeAdmin("v1", T)).isEqualTo(AdminStore.Revoke.REVOKED);
    store.insertAdmin(admin("a2", "admin", T));
    assertThat(store.revokeAdmin("a1", T)).isEqualTo(AdminStore.Revoke.REVOKED);
    assertThat(store.revokeAdmin("a2", T)).isEqualTo(AdminStore.Revoke.LAST_ADMIN);
  }

  @Test
  void revokeOnceAndOnlyOnce() {
    store.insertAdmin(admin("a1", "admin", T));
    store.insertAdmin(admin("o1", "operator", T));
    assertThat(store.revokeAdmin("o1", T)).isEqualTo(AdminStore.Revoke.REVOKED);
    assertThat(store.revokeAdmin("o1", T)).isEqualTo(AdminStore.Revoke.NOT_FOUND);
    assertThat(store.revokeAdmin("missing", T)).isEqualTo(AdminStore.Revoke.NOT_FOUND);
  }

  @Test
  void touchRecordsTheLastUse() {
    store.insertAdmin(admin("a1", "admin", T));
    store.touchAdmin("a1", T.plusSeconds(5));
    assertThat(store.findAdmin("a1").orElseThrow().lastUsedAt()).isEqualTo(T.plusSeconds(5));
  }

  @Test
  void anIdIsUniqueAndARoleMustBeKnown() {
    store.insertAdmin(admin("a1", "admin", T));
    assertThatThrownBy(() -> store.insertAdmin(admin("a1", "viewer", T)))
        .isInstanceOf(StoreException.class);
    assertThatThrownBy(() -> store.insertAdmin(admin("x1", "root", T)))
        .isInstanceOf(StoreException.class);
  }
}
