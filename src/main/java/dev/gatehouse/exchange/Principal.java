package dev.gatehouse.exchange;

import dev.gatehouse.config.AddressSet;
import dev.gatehouse.store.KeyLimits;
import java.time.Instant;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Who is calling: the key a request authenticated with, and what that key may do. Immutable; built
 * once per key and shared by every request that uses it.
 *
 * @param keyId the key's public id, safe to log
 * @param keyName the operator's name for the key
 * @param scopes operation scopes such as {@code inference}
 * @param models the key's model allowlist
 * @param expiresAt when the key stops working, or null for never
 * @param limits the key's own limits (null fields use the global settings)
 * @param networks the addresses the key may be used from, or null for any. A stored range that
 *     cannot be parsed is left out rather than widening the key, so an unreadable rule allows
 *     nothing.
 * @param guard the prompt guard's mode for this key (off, log or block), or null for guard.mode
 */
public record Principal(
    String keyId,
    String keyName,
    Set<String> scopes,
    ModelGlobs models,
    @Nullable Instant expiresAt,
    KeyLimits limits,
    @Nullable AddressSet networks,
    @Nullable String guard) {

  /** A principal that uses the global guard mode. */
  public Principal(
      String keyId,
      String keyName,
      Set<String> scopes,
      ModelGlobs models,
      @Nullable Instant expiresAt,
      KeyLimits limits,
      @Nullable AddressSet networks) {
    this(keyId, keyName, scopes, models, expiresAt, limits, networks, null);
  }

  /** A principal with no limits of its own, usable from any address. */
  public Principal(
      String keyId, String keyName, Set<String> scopes, ModelGlobs models, Instant expiresAt) {
    this(keyId, keyName, scopes, models, expiresAt, KeyLimits.NONE, null, null);
  }

  public boolean hasScope(String scope) {
    return scopes.contains(scope);
  }
}
