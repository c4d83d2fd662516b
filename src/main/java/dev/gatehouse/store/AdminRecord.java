package dev.gatehouse.store;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One admin credential as stored: its public id, a label, its role ({@code viewer}, {@code
 * operator} or {@code admin}), the keyed hash of its token (never the token), and when it was
 * created, revoked and last used.
 */
public record AdminRecord(
    String id,
    String name,
    String role,
    byte[] hash,
    Instant createdAt,
    @Nullable Instant revokedAt,
    @Nullable Instant lastUsedAt) {

  public AdminRecord {
    hash = hash.clone();
  }

  @Override
  public byte[] hash() {
    return hash.clone();
  }

  /** True until revoked. */
  public boolean active() {
    return revokedAt == null;
  }
}
