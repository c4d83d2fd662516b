package dev.gatehouse.keys;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.store.KeyRecord;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A key record as JSON, the one shape {@code gatehouse keys --json} and the admin API's {@code
 * /api/v1/keys} both print. Never holds the secret or its hash.
 */
public final class KeyJson {

  private static final ObjectMapper JSON = new ObjectMapper();

  private KeyJson() {}

  /** The key's public fields; {@code status} as of {@code now}. */
  public static ObjectNode of(KeyRecord k, Instant now) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", k.id());
    o.put("name", k.name());
    o.put("status", k.status(now));
    ArrayNode scopes = o.putArray("scopes");
    k.scopes().forEach(scopes::add);
    ArrayNode models = o.putArray("models");
    k.models().forEach(models::add);
    ArrayNode networks = o.putArray("networks");
    k.networks().forEach(networks::add);
    o.put("created_at", k.createdAt().toString());
    if (k.limits() != null && !k.limits().isEmpty()) {
      o.set("limits", JSON.valueToTree(k.limits()));
    }
    putInstant(o, "expires_at", k.expiresAt());
    putInstant(o, "revoked_at", k.revokedAt());
    if (k.rotatedTo() != null) {
      o.put("rotated_to", k.rotatedTo());
    }
    return o;
  }

  private static void putInstant(ObjectNode o, String field, @Nullable Instant t) {
    if (t == null) {
      o.putNull(field);
    } else {
      o.put(field, t.toString());
    }
  }
}
