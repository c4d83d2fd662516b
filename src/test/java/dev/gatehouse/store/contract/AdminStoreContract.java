package dev.gatehouse.store.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.store.AdminRecord;
import dev.gatehouse.store.AdminStore;
import dev.gatehouse.store.AdminTotpRecord;
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

  static final byte[] SEALED = "sealed-secret".getBytes(StandardCharsets.UTF_8);

  static java.util.List<byte[]> hashes(String... codes) {
    java.util.List<byte[]> out = new java.util.ArrayList<>();
    for (String c : codes) {
      out.add(("h-" + c).getBytes(StandardCharsets.UTF_8));
    }
    return out;
  }

  @Test
  void aSecondFactorIsPendingUntilConfirmedAndThenCannotBeReplacedUnseen() {
    // why: a confirmed factor is removed only with a code (the service checks), never overwritten
    store.insertAdmin(admin("a1", "admin", T));
    assertThat(store.findTotp("a1")).isEmpty();
    assertThat(store.beginTotp("a1", SEALED, T)).isTrue();
    AdminTotpRecord pending = store.findTotp("a1").orElseThrow();
    assertThat(pending.confirmed()).isFalse();
    assertThat(pending.encryptedSecret()).isEqualTo(SEALED);
    assertThat(pending.lastStep()).isNull();
    assertThat(store.beginTotp("a1", "other".getBytes(StandardCharsets.UTF_8), T)).isTrue();
    assertThat(store.confirmTotp("a1", 100, hashes("x", "y"), T.plusSeconds(1))).isTrue();
    AdminTotpRecord done = store.findTotp("a1").orElseThrow();
    assertThat(done.confirmedAt()).isEqualTo(T.plusSeconds(1));
    assertThat(done.lastStep()).isEqualTo(100L);
    assertThat(done.recoveryCodesLeft()).isEqualTo(2);
    assertThat(done.encryptedSecret()).isEqualTo("other".getBytes(StandardCharsets.UTF_8));
    assertThat(store.confirmTotp("a1", 101, hashes("z"), T)).as("confirmed already").isFalse();
    assertThat(store.beginTotp("a1", SEALED, T)).as("confirmed already").isFalse();
    assertThat(store.findTotp("a1").orElseThrow().confirmed()).isTrue();
  }

  @Test
  void aTimeStepIsAcceptedOnceAndNeverAnEarlierOne() {
    // why: a code seen once (over a shoulder, in a log) must not open a second session
    store.insertAdmin(admin("a1", "admin", T));
    store.beginTotp("a1", SEALED, T);
    assertThat(store.acceptTotpStep("a1", 5)).as("not confirmed yet").isFalse();
    store.confirmTotp("a1", 100, hashes(), T);
    assertThat(store.acceptTotpStep("a1", 100)).isFalse();
    assertThat(store.acceptTotpStep("a1", 99)).isFalse();
    assertThat(store.acceptTotpStep("a1", 101)).isTrue();
    assertThat(store.acceptTotpStep("a1", 101)).isFalse();
    assertThat(store.findTotp("a1").orElseThrow().lastStep()).isEqualTo(101L);
  }

  @Test
  void aRecoveryCodeWorksOnceForItsOwnCredentialAndRemovalTakesThemAll() {
    // why: recovery codes are one-time, and belong to one credential
    store.insertAdmin(admin("a1", "admin", T));
    store.insertAdmin(admin("a2", "admin", T));
    store.beginTotp("a1", SEALED, T);
    store.confirmTotp("a1", 1, hashes("p", "q"), T);
    byte[] p = hashes("p").getFirst();
    assertThat(store.useRecoveryCode("a2", p, T)).isFalse();
    assertThat(store.useRecoveryCode("a1", p, T)).isTrue();
    assertThat(store.useRecoveryCode("a1", p, T)).isFalse();
    assertThat(store.findTotp("a1").orElseThrow().recoveryCodesLeft()).isEqualTo(1);
    assertThat(store.deleteTotp("a1")).isTrue();
    assertThat(store.deleteTotp("a1")).isFalse();
    assertThat(store.findTotp("a1")).isEmpty();
    assertThat(store.useRecoveryCode("a1", hashes("q").getFirst(), T)).isFalse();
    // A new enrolment starts clean.
    store.beginTotp("a1", SEALED, T);
    store.confirmTotp("a1", 1, hashes("r"), T);
    assertThat(store.findTotp("a1").orElseThrow().recoveryCodesLeft()).isEqualTo(1);
  }
}
