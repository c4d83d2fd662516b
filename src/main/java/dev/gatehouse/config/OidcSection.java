package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.Oidc;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The section factory of {@code admin.oidc.*}, the dashboard's single sign-on: checks that the
 * issuer cannot be reached in clear text except on loopback, that a client id is set, and that
 * every role mapping names a real role.
 */
public final class OidcSection {

  private static final Set<String> ROLES = Set.of("viewer", "operator", "admin");

  private OidcSection() {}

  static Oidc oidc(SettingValues v, Problems p) {
    String issuerText = v.string("admin.oidc.issuer").strip();
    if (issuerText.isEmpty()) {
      return Oidc.OFF;
    }
    URI issuer = httpsOrLoopback(issuerText, false);
    if (issuer == null) {
      p.invalid(
          "admin.oidc.issuer",
          "an https:// URL (http:// only on a loopback address), no query, fragment or user info");
    }
    String clientId = v.string("admin.oidc.client_id").strip();
    if (clientId.isEmpty()) {
      p.invalid("admin.oidc.client_id", "the dashboard's client id at the provider");
    }
    Path secretFile = v.path("admin.oidc.client_secret_file");
    if (secretFile != null && !Files.isReadable(secretFile)) {
      p.add(
          "admin.oidc.client_secret_file",
          "admin.oidc.client_secret_file: " + secretFile + " (expected: a readable file)");
    }
    String baseText = v.string("admin.oidc.redirect_base").strip();
    URI base = null;
    if (!baseText.isEmpty()) {
      base = httpsOrLoopback(baseText, true);
      if (base == null) {
        p.invalid(
            "admin.oidc.redirect_base",
            "https://HOST[:PORT] with no path (http:// only on a loopback address)");
      }
    }
    String claim = v.string("admin.oidc.roles_claim").strip();
    if (claim.isEmpty() || claim.startsWith(".") || claim.endsWith(".") || claim.contains("..")) {
      p.invalid(
          "admin.oidc.roles_claim", "a claim name or a dotted path such as realm_access.roles");
    }
    Map<String, String> roles = new LinkedHashMap<>();
    for (String entry : v.strings("admin.oidc.roles")) {
      int eq = entry.lastIndexOf('=');
      String role = eq < 0 ? "" : entry.substring(eq + 1).strip().toLowerCase(Locale.ROOT);
      String value = eq < 0 ? "" : entry.substring(0, eq).strip();
      if (value.isEmpty() || !ROLES.contains(role)) {
        p.invalid(
            "admin.oidc.roles",
            "entries 'value=role' with role viewer, operator or admin, such as 'gatehouse-ops=operator'");
        break;
      }
      roles.merge(value, role, OidcSection::higher);
    }
    if (roles.isEmpty()) {
      // Fail closed: with no mapping nobody could sign in, which is surely a mistake in the config.
      p.invalid(
          "admin.oidc.roles", "at least one 'value=role' entry when admin.oidc.issuer is set");
    }
    return new Oidc(issuer, clientId, secretFile, base, claim, roles);
  }

  private static String higher(String a, String b) {
    return rank(a) >= rank(b) ? a : b;
  }

  private static int rank(String role) {
    return switch (role) {
      case "admin" -> 2;
      case "operator" -> 1;
      default -> 0;
    };
  }

  /**
   * The URL when it is https (or http on a loopback host: a provider on the same machine, where
   * nothing crosses a network), with a host and no query, fragment or user info, as written (an
   * issuer is compared with the provider's exactly, trailing slash included). {@code originOnly}:
   * no path either but a lone slash, which is dropped. Otherwise null.
   */
  public static @Nullable URI httpsOrLoopback(String text, boolean originOnly) {
    URI u;
    try {
      u = new URI(originOnly && text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
    } catch (URISyntaxException e) {
      return null;
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    String host = u.getHost();
    if (host == null
        || u.getRawQuery() != null
        || u.getRawFragment() != null
        || u.getRawUserInfo() != null
        || (originOnly && u.getRawPath() != null && !u.getRawPath().isEmpty())) {
      return null;
    }
    if (scheme.equals("https")) {
      return u;
    }
    String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    if (scheme.equals("http") && new HostPort(bare, Math.max(u.getPort(), 0)).isLoopback()) {
      return u;
    }
    return null;
  }
}
