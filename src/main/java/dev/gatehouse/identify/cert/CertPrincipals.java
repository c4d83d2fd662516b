package dev.gatehouse.identify.cert;

import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.store.KeyLimits;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.jspecify.annotations.Nullable;

/**
 * The map from a verified client certificate to a {@link Principal} ({@code
 * tls.client_principals}): one rule per line, the first that matches wins.
 *
 * <p>A line is a match then optional grants: {@code cn=NAME}, {@code subject=DN} (RFC 4514,
 * compared as X.500 names, so spacing and case of attribute types do not matter), {@code dns=NAME},
 * {@code uri=URI} or {@code email=ADDRESS} (a subject alternative name of that type), then {@code
 * scopes=a,b} (default: a key's default scopes) and {@code models=glob,glob} (default: all).
 * Matches are exact, never patterns: a wildcard would admit certificates the CA issues later for
 * names nobody meant to map.
 *
 * <p>The certificate has already passed the TLS handshake (chain to {@code tls.client_ca}, dates,
 * {@code tls.client_crl}); this class only decides who it is. It checks the dates once more because
 * a connection can outlive its certificate. Immutable and thread-safe.
 */
public final class CertPrincipals {

  /** What a line matches on. */
  enum Field {
    CN,
    SUBJECT,
    DNS,
    URI,
    EMAIL
  }

  /** One line: a match and what it grants. */
  record Rule(
      Field field,
      String value,
      @Nullable X500Principal subject,
      Set<String> scopes,
      ModelGlobs models) {}

  /** Either a principal or why there is none (for the log and the audit record only). */
  public record Match(@Nullable Principal principal, @Nullable String reason) {}

  /** The most characters a name keeps in a principal's id; longer ones are hashed. */
  static final int MAX_NAME = 64;

  private static final Pattern TAIL = Pattern.compile("\\s+(scopes|models)=(\\S*)\\s*$");
  private static final Pattern MATCH = Pattern.compile("(cn|subject|dns|uri|email)=(.+)");

  /** The form of a line, for error messages. */
  public static final String FORM =
      "cn=NAME, subject=DN, dns=NAME, uri=URI or email=ADDRESS, then optional scopes=a,b and models=glob,glob";

  private final List<Rule> rules;

  private CertPrincipals(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /** No mapping: every certificate is refused as a credential. */
  public static final CertPrincipals NONE = new CertPrincipals(List.of());

  /**
   * Parses the configured lines.
   *
   * @throws IllegalArgumentException naming the first line that does not parse
   */
  public static CertPrincipals parse(List<String> lines) {
    List<Rule> rules = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      try {
        rules.add(rule(lines.get(i).trim()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "line " + (i + 1) + " '" + lines.get(i).trim() + "': " + e.getMessage(), e);
      }
    }
    return new CertPrincipals(rules);
  }

  /** True when no line is configured. */
  public boolean isEmpty() {
    return rules.isEmpty();
  }

  private static Rule rule(String line) {
    String rest = line;
    String scopes = null;
    String models = null;
    for (Matcher m = TAIL.matcher(rest); m.find(); m = TAIL.matcher(rest)) {
      boolean isScopes = m.group(1).equals("scopes");
      if ((isScopes ? scopes : models) != null) {
        throw new IllegalArgumentException(m.group(1) + "= is given twice");
      }
      if (m.group(2).isEmpty()) {
        throw new IllegalArgumentException(m.group(1) + "= is empty");
      }
      if (isScopes) {
        scopes = m.group(2);
      } else {
        models = m.group(2);
      }
      rest = rest.substring(0, m.start());
    }
    Matcher m = MATCH.matcher(rest.trim());
    if (!m.matches() || m.group(2).isBlank()) {
      throw new IllegalArgumentException("expected " + FORM);
    }
    Field field = Field.valueOf(m.group(1).toUpperCase(Locale.ROOT));
    String value = m.group(2).trim();
    X500Principal subject = null;
    if (field == Field.SUBJECT) {
      try {
        subject = new X500Principal(value);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "subject= is not a distinguished name such as CN=ci,O=Example", e);
      }
    } else if (field == Field.DNS) {
      value = value.toLowerCase(Locale.ROOT);
    }
    if (field != Field.SUBJECT && value.contains("*")) {
      throw new IllegalArgumentException("matches are exact; * is not a pattern here");
    }
    Set<String> granted;
    if (scopes == null) {
      granted =
          Operation.DEFAULT_SCOPES.stream()
              .map(o -> o.scope)
              .collect(Collectors.toUnmodifiableSet());
    } else {
      granted = new LinkedHashSet<>();
      for (String s : scopes.split(",", -1)) {
        if (Operation.byScope(s) == null) {
          throw new IllegalArgumentException(
              "unknown scope '" + s + "' (expected: " + Operation.allScopes() + ")");
        }
        granted.add(s);
      }
      granted = Set.copyOf(granted);
    }
    List<String> globs = models == null ? List.of() : Arrays.asList(models.split(",", -1));
    if (globs.stream().anyMatch(String::isEmpty)) {
      throw new IllegalArgumentException("models= has an empty entry");
    }
    return new Rule(field, value, subject, granted, new ModelGlobs(globs));
  }

  /**
   * The principal for a client certificate that passed the handshake, or why there is none.
   *
   * @param cert the client's leaf certificate
   * @param now the request's time
   */
  public Match identify(X509Certificate cert, Instant now) {
    // The DN goes to the log, the audit record and the dashboard: no control characters.
    String subjectDn = cert.getSubjectX500Principal().getName().replaceAll("[\\p{Cntrl}]", "?");
    try {
      cert.checkValidity(Date.from(now));
    } catch (CertificateExpiredException | CertificateNotYetValidException e) {
      return new Match(null, "client certificate " + subjectDn + " outside its dates");
    }
    for (Rule r : rules) {
      String matched = matched(r, cert);
      if (matched != null) {
        return new Match(
            new Principal(
                "cert:" + publicName(matched, subjectDn),
                subjectDn,
                r.scopes(),
                r.models(),
                cert.getNotAfter().toInstant(),
                KeyLimits.NONE,
                null),
            null);
      }
    }
    return new Match(
        null, "client certificate " + subjectDn + " matches no tls.client_principals line");
  }

  /** The value a rule matched on (the certificate's CN for a subject match), or null. */
  private static @Nullable String matched(Rule r, X509Certificate cert) {
    boolean hit =
        switch (r.field()) {
          case SUBJECT -> cert.getSubjectX500Principal().equals(r.subject());
          case CN -> commonNames(cert).contains(r.value());
          case DNS -> altNames(cert, 2).stream().anyMatch(n -> n.equalsIgnoreCase(r.value()));
          case EMAIL -> altNames(cert, 1).contains(r.value());
          case URI -> altNames(cert, 6).contains(r.value());
        };
    if (!hit) {
      return null;
    }
    if (r.field() == Field.SUBJECT) {
      List<String> cns = commonNames(cert);
      return cns.isEmpty() ? cert.getSubjectX500Principal().getName() : cns.get(0);
    }
    return r.value();
  }

  private static List<String> commonNames(X509Certificate cert) {
    X500Name name = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
    List<String> out = new ArrayList<>();
    for (RDN rdn : name.getRDNs(BCStyle.CN)) {
      out.add(IETFUtils.valueToString(rdn.getFirst().getValue()));
    }
    return out;
  }

  /**
   * The certificate's subject alternative names of one GeneralName type (1 email, 2 DNS, 6 URI).
   */
  private static List<String> altNames(X509Certificate cert, int type) {
    Collection<List<?>> all;
    try {
      all = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return List.of(); // an unreadable extension matches nothing
    }
    if (all == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (List<?> entry : all) {
      if (entry.size() == 2
          && entry.get(0) instanceof Integer t
          && t == type
          && entry.get(1) instanceof String s) {
        out.add(s);
      }
    }
    return out;
  }

  /**
   * The name as it goes into the audit log, metrics and dashboard: as it stands when it is at most
   * {@link #MAX_NAME} printable ASCII characters without spaces; otherwise the first 16 hex digits
   * of the SHA-256 of the subject DN and the name, so that log lines and metric labels stay one
   * token and nobody can write control characters into them through a certificate.
   */
  static String publicName(String name, String subjectDn) {
    if (name.length() <= MAX_NAME && name.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      return name;
    }
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest((subjectDn + "|" + name).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
