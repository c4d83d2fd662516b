package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.Jwt;
import dev.gatehouse.config.GatehouseConfig.JwtTier;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The {@code jwt.*} section: client JWTs from an identity provider, built from its settings and
 * checked as it is built. Refuses {@code none} and the HMAC algorithms outright: a JWKS holds
 * public keys, and a verifier that accepted HS256 with a public key as the secret would accept a
 * token anyone signed (the RS/HS confusion).
 */
final class JwtSection {

  private JwtSection() {}

  /**
   * The algorithms a JWKS public key can verify with the JDK alone; HS* and none are never among
   * them (EdDSA would need Google Tink beside nimbus-jose-jwt, so it is not offered).
   */
  static final Set<String> ASYMMETRIC =
      Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512");

  /** The limits a tier may set, by name. */
  private static final Set<String> TIER_LIMITS =
      Set.of(
          "rpm",
          "burst",
          "tokens_per_minute",
          "tokens_per_day",
          "concurrency",
          "max_output_tokens");

  static Jwt jwt(SettingValues v, Problems p) {
    String issuer = v.string("jwt.issuer");
    String audience = v.string("jwt.audience");
    String urlText = v.string("jwt.jwks_url");
    @Nullable Path file = v.path("jwt.jwks_file");
    @Nullable URI url = null;
    if (!urlText.isEmpty()) {
      url = jwksUrl(urlText);
      if (url == null) {
        p.invalid("jwt.jwks_url", "an http:// or https:// URL with a host and no user info");
      }
    }
    if (!issuer.isEmpty() && urlText.isEmpty() == (file == null)) {
      p.add(
          "jwt.jwks_url",
          "jwt.jwks_url, jwt.jwks_file: "
              + (file == null ? "neither is set" : "both are set")
              + " (expected: exactly one when jwt.issuer is set)");
    }
    List<String> algorithms = v.strings("jwt.algorithms");
    for (String alg : algorithms) {
      String upper = alg.toUpperCase(Locale.ROOT);
      if (upper.startsWith("HS") || upper.equals("NONE")) {
        // why: a JWKS holds public keys; HMAC "verified" with a public key is a forgery anyone
        // can make (RS/HS confusion), and none is no signature at all
        p.add(
            "jwt.algorithms",
            "jwt.algorithms: "
                + alg
                + " (expected: asymmetric algorithms only; none and HMAC are never accepted with a"
                + " JWKS of public keys)");
      } else if (!ASYMMETRIC.contains(alg)) {
        p.add(
            "jwt.algorithms",
            "jwt.algorithms: " + alg + " (expected: some of " + String.join(", ", sorted()) + ")");
      }
    }
    if (!issuer.isEmpty() && algorithms.isEmpty()) {
      p.invalid("jwt.algorithms", "at least one algorithm when jwt.issuer is set");
    }
    Duration skew = v.duration("jwt.clock_skew");
    if (skew.isNegative() || skew.compareTo(Duration.ofHours(1)) > 0) {
      p.invalid("jwt.clock_skew", "0s to 1h");
    }
    Duration refresh = v.duration("jwt.jwks_refresh");
    p.positive("jwt.jwks_refresh", refresh);
    Duration minRefetch = v.duration("jwt.jwks_min_refetch");
    p.positive("jwt.jwks_min_refetch", minRefetch);
    for (String claim : List.of("jwt.scopes_claim", "jwt.models_claim", "jwt.tier_claim")) {
      if (!issuer.isEmpty() && v.string(claim).isEmpty()) {
        p.invalid(claim, "a claim name");
      }
    }
    return new Jwt(
        issuer,
        audience,
        url,
        file,
        List.copyOf(algorithms),
        skew,
        refresh,
        minRefetch,
        v.string("jwt.scopes_claim"),
        v.string("jwt.models_claim"),
        v.string("jwt.tier_claim"),
        tiers(v.strings("jwt.tiers"), p));
  }

  private static List<String> sorted() {
    return ASYMMETRIC.stream().sorted().toList();
  }

  private static @Nullable URI jwksUrl(String text) {
    try {
      URI u = new URI(text);
      boolean web = "http".equals(u.getScheme()) || "https".equals(u.getScheme());
      return web && u.getHost() != null && u.getUserInfo() == null ? u : null;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  /** Parses {@code NAME key=N key=N ...} entries; every problem is reported. */
  static Map<String, JwtTier> tiers(List<String> entries, Problems p) {
    Map<String, JwtTier> out = new LinkedHashMap<>();
    for (String entry : entries) {
      String[] parts = entry.trim().split("\\s+");
      String name = parts[0];
      Map<String, Long> limits = new LinkedHashMap<>();
      boolean ok = name.matches("[A-Za-z0-9_.-]{1,64}") && !out.containsKey(name);
      for (int i = 1; i < parts.length && ok; i++) {
        int eq = parts[i].indexOf('=');
        String key = eq < 0 ? parts[i] : parts[i].substring(0, eq);
        String num = eq < 0 ? "" : parts[i].substring(eq + 1);
        ok = TIER_LIMITS.contains(key) && num.matches("[0-9]{1,12}") && !limits.containsKey(key);
        if (ok) {
          limits.put(key, Long.parseLong(num));
        }
      }
      if (!ok) {
        p.add(
            "jwt.tiers",
            "jwt.tiers: "
                + entry
                + " (expected: a unique NAME then KEY=N for rpm, burst, tokens_per_minute,"
                + " tokens_per_day, concurrency, max_output_tokens)");
        continue;
      }
      out.put(
          name,
          new JwtTier(
              asInt(limits.get("rpm")),
              asInt(limits.get("burst")),
              limits.get("tokens_per_minute"),
              limits.get("tokens_per_day"),
              asInt(limits.get("concurrency")),
              asInt(limits.get("max_output_tokens"))));
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  private static @Nullable Integer asInt(@Nullable Long n) {
    return n == null ? null : (int) Math.min(Integer.MAX_VALUE, n);
  }
}
