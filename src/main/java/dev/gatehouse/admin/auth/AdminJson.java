package dev.gatehouse.admin.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.store.AdminRecord;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * An admin credential as JSON, never with its hash: the one shape that {@code GET /api/v1/admins}
 * and {@code gatehouse admins list --json} both print.
 */
public final class AdminJson {

  private static final ObjectMapper JSON = new ObjectMapper();

  private AdminJson() {}

  public static ObjectNode of(AdminRecord a) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", a.id());
    o.put("name", a.name());
    o.put("role", a.role());
    o.put("created_at", a.createdAt().toString());
    put(o, "revoked_at", a.revokedAt());
    put(o, "last_used_at", a.lastUsedAt());
    return o;
  }

  private static void put(ObjectNode o, String field, @Nullable Instant t) {
    if (t == null) {
      o.putNull(field);
    } else {
      o.put(field, t.toString());
    }
  }
}
