package dev.gatehouse.identify;

import dev.gatehouse.store.KeyLimits;
import java.time.Instant;
import java.util.Set;

/**
 * Who is calling: the key a request authenticated with, and what that key may do. Immutable;
 * built once per key and shared by every request that uses it.
 *
 * @param keyId the key's public id, safe to log
 * @param keyName the operator's name for the key
 * @param scopes operation scopes such as {@code inference}
 * @param models the key's model allowlist
 * @param expiresAt when the key stops working, or null for never
 * @param limits the key's own limits (null fields use the global settings)
 */
public record Principal(
    String keyId, String keyName, Set<String> scopes, ModelGlobs models, Instant expiresAt, KeyLimits limits) {

  public boolean hasScope(String scope) {
    return scopes.contains(scope);
  }
}
