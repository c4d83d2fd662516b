package dev.gatehouse.admin.auth;

import dev.gatehouse.admin.AdminPrincipal;
import dev.gatehouse.admin.Role;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * How a verified ID token's claims become a dashboard caller: its name ({@code oidc:<sub>}) and the
 * highest role that a value of the roles claim maps to, or none (then the login is refused).
 */
final class OidcClaims {

  private OidcClaims() {}

  /**
   * The values at a dotted claim path ({@code groups}, {@code realm_access.roles}): a string or the
   * strings of a list; empty when the claim is absent or of another shape.
   */
  static List<String> values(Map<String, Object> claims, String path) {
    Object at = claims;
    for (String part : path.split("\\.", -1)) {
      if (!(at instanceof Map<?, ?> m)) {
        return List.of();
      }
      at = m.get(part);
    }
    if (at instanceof String s) {
      return List.of(s);
    }
    List<String> out = new ArrayList<>();
    if (at instanceof List<?> list) {
      for (Object o : list) {
        if (o instanceof String s) {
          out.add(s);
        }
      }
    }
    return out;
  }

  /** The highest role the values map to, or null when none does (no login). */
  static @Nullable Role role(List<String> values, Map<String, String> mapping) {
    Role best = null;
    for (String v : values) {
      Role r = Role.parse(mapping.get(v));
      if (r != null && (best == null || r.allows(best))) {
        best = r;
      }
    }
    return best;
  }

  /**
   * The caller: id {@code oidc:<sub>} ({@code oidc:} and the first 16 hex digits of SHA-256 of
   * issuer|sub when sub is longer than 64 characters or not printable ASCII, so that a log line or
   * the dashboard never shows control characters), and a readable name.
   */
  static AdminPrincipal principal(
      String issuer, String sub, @Nullable String preferredName, Role role) {
    String id = "oidc:" + (printable(sub) ? sub : shortHash(issuer + "|" + sub));
    String name = preferredName != null && printable(preferredName) ? preferredName : id;
    return new AdminPrincipal(id, name, role, "session");
  }

  static boolean printable(String s) {
    return !s.isEmpty() && s.length() <= 64 && s.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
  }

  private static String shortHash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}
