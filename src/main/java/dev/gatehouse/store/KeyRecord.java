package dev.gatehouse.store;

import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A stored API key. Holds only the keyed hash of the secret, never the secret itself.
 *
 * @param id public id, the lookup prefix of the key
 * @param name the operator's label
 * @param hash HMAC-SHA256 of the full key under the server secret
 * @param scopes operation scopes
 * @param models model glob allowlist; empty allows every model
 * @param createdAt creation time
 * @param expiresAt expiry, or null for never
 * @param revokedAt revocation time, or null
 * @param rotatedTo the id of the key that replaced this one, or null
 * @param limits the key's own limits (fields left null use the global settings)
 * @param networks CIDR ranges the key may be used from; empty allows any address
 * @param guard the prompt guard's mode for this key (off, log or block), or null for guard.mode
 */
public record KeyRecord(
    String id,
    String name,
    byte[] hash,
    List<String> scopes,
    List<String> models,
    Instant createdAt,
    @Nullable Instant expiresAt,
    @Nullable Instant revokedAt,
    @Nullable String rotatedTo,
    KeyLimits limits,
    List<String> networks,
    @Nullable String guard) {

  /** A key that uses the global guard mode. */
  public KeyRecord(
      String id,
      String name,
      byte[] hash,
      List<String> scopes,
      List<String> models,
      Instant createdAt,
      Instant expiresAt,
      Instant revokedAt,
      String rotatedTo,
      KeyLimits limits,
      List<String> networks) {
    this(
        id, name, hash, scopes, models, createdAt, expiresAt, revokedAt, rotatedTo, limits,
        networks, null);
  }

  /** A key with no limits of its own, usable from any address. */
  public KeyRecord(
      String id,
      String name,
      byte[] hash,
      List<String> scopes,
      List<String> models,
      Instant createdAt,
      Instant expiresAt,
      Instant revokedAt,
      String rotatedTo) {
    this(
        id,
        name,
        hash,
        scopes,
        models,
        createdAt,
        expiresAt,
        revokedAt,
        rotatedTo,
        KeyLimits.NONE,
        List.of());
  }

  /** True when the key may authenticate at this instant. */
  public boolean activeAt(Instant now) {
    return revokedAt == null && (expiresAt == null || now.isBefore(expiresAt));
  }

  /** The key's state as one word, for listings. */
  public String status(Instant now) {
    if (revokedAt != null) {
      return "revoked";
    }
    if (expiresAt != null && !now.isBefore(expiresAt)) {
      return "expired";
    }
    return rotatedTo != null ? "rotating" : "active";
  }
}
