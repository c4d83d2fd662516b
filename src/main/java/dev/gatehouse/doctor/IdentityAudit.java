package dev.gatehouse.doctor;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.HostPort;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The audit of the client-identity settings ({@code jwt.*}): an issuer or key set on plain HTTP, no
 * audience, an algorithm list that admits HMAC beside public keys, a clock skew over {@link
 * #MAX_SKEW}. Part of {@link ConfigAudit}; reads the config only, never the network.
 */
final class IdentityAudit {

  /** A clock skew above this keeps expired tokens working too long. */
  static final Duration MAX_SKEW = Duration.ofMinutes(5);

  private IdentityAudit() {}

  /** The findings of a config that loaded. */
  static List<Finding> check(GatehouseConfig config, String where, @Nullable String location) {
    List<Finding> out = new ArrayList<>();
    GatehouseConfig.Jwt jwt = config.jwt();
    if (!jwt.enabled()) {
      return out;
    }
    if (jwt.issuer().toLowerCase(Locale.ROOT).startsWith("http://")) {
      out.add(
          Finding.of(
                  Rule.JWT_ISSUER_PLAINTEXT,
                  Rule.JWT_ISSUER_PLAINTEXT.usual(),
                  "jwt.issuer " + jwt.issuer())
              .withEvidence(
                  "jwt.issuer: " + jwt.issuer() + " in " + where + " is a plain-HTTP URL",
                  "the provider's discovery document and keys travel in clear text")
              .withFix(
                  "Serve the identity provider over HTTPS, then set jwt.issuer (and jwt.jwks_url) to"
                      + " its https:// URLs; the iss claim of new tokens changes with it.")
              .withLocation(location));
    }
    URI jwks = jwt.jwksUrl();
    if (jwks != null && "http".equals(jwks.getScheme()) && !loopback(jwks)) {
      out.add(
          Finding.of(
                  Rule.JWT_ISSUER_PLAINTEXT,
                  Rule.JWT_ISSUER_PLAINTEXT.usual(),
                  "jwt.jwks_url " + jwks)
              .withEvidence(
                  "jwt.jwks_url: " + jwks + " in " + where + " is fetched over plain HTTP",
                  "whoever is on the path can serve their own key and sign any token")
              .withFix("Set jwt.jwks_url to the provider's https:// key set URL.")
              .withLocation(location));
    }
    if (jwt.audience().isEmpty()) {
      out.add(
          Finding.of(Rule.JWT_NO_AUDIENCE, Rule.JWT_NO_AUDIENCE.usual(), "jwt.audience")
              .withEvidence(
                  "jwt.issuer: " + jwt.issuer() + " with no jwt.audience in " + where,
                  "any token of this issuer is accepted, whichever application it was issued to")
              .withFix(
                  "Set jwt.audience to the client id or resource the provider puts in aud for"
                      + " Gatehouse (Keycloak: an audience mapper on the client scope).")
              .withLocation(location));
    }
    if (jwt.clockSkew().compareTo(MAX_SKEW) > 0) {
      out.add(
          Finding.of(Rule.JWT_CLOCK_SKEW, Rule.JWT_CLOCK_SKEW.usual(), "jwt.clock_skew")
              .withEvidence("jwt.clock_skew: " + jwt.clockSkew().toSeconds() + "s in " + where)
              .withFix(
                  "Keep the clocks in step with NTP and set jwt.clock_skew to 60s (the default) or"
                      + " less.")
              .withLocation(location));
    }
    return out;
  }

  /**
   * The findings of a config that did not load: the loader refuses HMAC algorithms in {@code
   * jwt.algorithms}, and doctor names that refusal for what it is.
   */
  static List<Finding> fromProblems(
      List<String> problems, String where, @Nullable String location) {
    List<Finding> out = new ArrayList<>();
    for (String line : problems) {
      String l = line.toLowerCase(Locale.ROOT);
      if (l.startsWith("jwt.algorithms: hs")) {
        out.add(
            Finding.of(Rule.JWT_HMAC_ALGORITHM, Rule.JWT_HMAC_ALGORITHM.usual(), "jwt.algorithms")
                .withEvidence(line + " in " + where)
                .withFix(
                    "Remove every HS* entry from jwt.algorithms: a JWKS holds public keys, so keep"
                        + " the provider's RS256 or ES256 (the default: RS256,ES256).")
                .withLocation(location));
      }
    }
    return out;
  }

  private static boolean loopback(URI u) {
    String host = u.getHost() == null ? "" : u.getHost().replace("[", "").replace("]", "");
    return new HostPort(host, Math.max(u.getPort(), 0)).isLoopback();
  }
}
