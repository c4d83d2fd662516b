package dev.gatehouse.identify.jwt;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.store.KeyLimits;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Turns the verified claims of a JWT into a {@link Principal}, named {@code jwt:<sub>} like a key
 * is named by its id, so that policy, limits, audit and metrics treat it like a key. Only known
 * Gatehouse scopes are taken from the scopes claim; a claim of the wrong type or a tier that is not
 * configured refuses the token rather than guessing. Stateless and thread-safe.
 */
final class JwtPrincipals {

  /** The longest {@code sub} used as it is in {@code jwt:<sub>}. */
  static final int MAX_SUB = 64;

  private final GatehouseConfig.Jwt config;

  JwtPrincipals(GatehouseConfig.Jwt config) {
    this.config = config;
  }

  /**
   * The principal of verified claims.
   *
   * @throws IllegalArgumentException with the reason for the log, when the claims cannot be mapped
   */
  Principal principal(JWTClaimsSet claims) {
    String sub = claims.getSubject();
    if (sub == null || sub.isEmpty()) {
      throw new IllegalArgumentException("no sub claim");
    }
    Set<String> scopes = new LinkedHashSet<>();
    List<String> named = strings(claims, config.scopesClaim());
    for (String s : named == null ? List.<String>of() : named) {
      // why: only Gatehouse's own scopes; a provider's openid/profile/email grant nothing here
      if (Operation.byScope(s) != null) {
        scopes.add(s);
      }
    }
    List<String> models = strings(claims, config.modelsClaim());
    if (models != null && models.isEmpty()) {
      // why: an empty allowlist means every model for a key; a provider that sends an empty
      // list most likely means none, so refuse rather than widen
      throw new IllegalArgumentException("empty " + config.modelsClaim() + " claim");
    }
    return new Principal(
        keyId(claims.getIssuer(), sub),
        name(claims, sub),
        Set.copyOf(scopes),
        new ModelGlobs(models == null ? List.of() : models),
        claims.getExpirationTime() == null ? null : claims.getExpirationTime().toInstant(),
        limits(claims),
        null,
        null);
  }

  private KeyLimits limits(JWTClaimsSet claims) {
    Object tier = claims.getClaim(config.tierClaim());
    if (tier == null) {
      return KeyLimits.NONE;
    }
    GatehouseConfig.JwtTier t = tier instanceof String s ? config.tiers().get(s) : null;
    if (t == null) {
      throw new IllegalArgumentException("unknown tier in " + config.tierClaim());
    }
    return new KeyLimits(
        t.rpm(),
        t.burst(),
        t.tokensPerMinute(),
        t.tokensPerDay(),
        t.concurrency(),
        t.maxOutputTokens());
  }

  /**
   * The principal's public name: {@code jwt:<sub>} when sub is short printable ASCII, else {@code
   * jwt:} and the first 16 hex digits of SHA-256 of {@code iss|sub}, so that a name in the audit
   * log and the metrics can never carry control characters or unbounded text.
   */
  static String keyId(@Nullable String iss, String sub) {
    if (sub.length() <= MAX_SUB && sub.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      return "jwt:" + sub;
    }
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256")
              .digest((iss + "|" + sub).getBytes(StandardCharsets.UTF_8));
      return "jwt:" + HexFormat.of().formatHex(h).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static String name(JWTClaimsSet claims, String sub) {
    for (String claim : List.of("name", "preferred_username")) {
      if (claims.getClaim(claim) instanceof String s && !s.isBlank()) {
        return printable(s);
      }
    }
    return printable(sub);
  }

  /** The text with control characters removed, at most 128 characters. */
  private static String printable(String s) {
    String clean =
        s.codePoints()
            .filter(c -> !Character.isISOControl(c))
            .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
            .toString();
    return clean.length() > 128 ? clean.substring(0, 128) : clean;
  }

  /**
   * A claim that is a space-separated string or an array of strings, or null when absent.
   *
   * @throws IllegalArgumentException for any other type
   */
  private static @Nullable List<String> strings(JWTClaimsSet claims, String name) {
    Object v = claims.getClaim(name);
    if (v == null) {
      return null;
    }
    List<String> out = new ArrayList<>();
    if (v instanceof String s) {
      for (String part : s.trim().split("\\s+")) {
        if (!part.isEmpty()) {
          out.add(part);
        }
      }
      return out;
    }
    if (v instanceof List<?> list) {
      for (Object o : list) {
        if (!(o instanceof String s)) {
          throw new IllegalArgumentException(name + " claim holds a non-string");
        }
        out.add(s);
      }
      return out;
    }
    throw new IllegalArgumentException(name + " claim is neither a string nor an array");
  }
}
