package dev.gatehouse.admin.auth;

import dev.gatehouse.admin.AdminPrincipal;
import dev.gatehouse.admin.Role;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/** PLACEHOLDER for H1's AdminCredentials (the lead drops this commit): admin tokens, in memory. */
public final class AdminCredentials {

  /** One admin credential, without its secret. */
  public record Credential(
      String id,
      String name,
      Role role,
      Instant createdAt,
      @Nullable Instant revokedAt,
      @Nullable Instant lastUsedAt) {}

  /** A new credential and its token, shown once. */
  public record Created(Credential credential, String token) {}

  /** Revoking would leave no active admin. */
  public static final class LastAdminException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LastAdminException(String message) {
      super(message);
    }
  }

  private final List<Created> all = new CopyOnWriteArrayList<>();

  public Created create(String name, Role role) {
    String id = "placeholder" + all.size();
    Created c =
        new Created(
            new Credential(id, name, role, Instant.now(), null, null), "gha_" + id + "_secret");
    all.add(c);
    return c;
  }

  public List<Credential> list() {
    List<Credential> out = new ArrayList<>();
    all.forEach(c -> out.add(c.credential()));
    return out;
  }

  /** False when there is no such active credential. */
  public boolean revoke(String id) {
    return false;
  }

  public Optional<AdminPrincipal> verify(String token) {
    for (Created c : all) {
      if (c.token().equals(token)) {
        Credential r = c.credential();
        return Optional.of(new AdminPrincipal(r.id(), r.name(), r.role(), "bearer"));
      }
    }
    return Optional.empty();
  }
}
