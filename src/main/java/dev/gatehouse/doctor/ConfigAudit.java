package dev.gatehouse.doctor;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.HostPort;
import dev.gatehouse.config.ProfileSection;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.store.KeyRecord;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The audit of Gatehouse's own setup: the configuration (a plain listener on the network,
 * authentication off, a clear-text upstream on another machine, the certificate's dates) and the
 * keys in the store (no expiry, no model limit, scopes beyond the ordinary three). Reads only; it
 * never creates the data directory or the store.
 */
public final class ConfigAudit {

  /** Certificates that expire sooner than this are reported. */
  public static final Duration EXPIRY_WARNING = Duration.ofDays(14);

  /** Scopes an ordinary key never needs; see docs/policy.md. */
  static final Set<Operation> RISKY =
      Set.of(Operation.MODELS_MANAGE, Operation.MODELS_INSPECT, Operation.ACCOUNT, Operation.CLOUD);

  /** Where the keys come from; the CLI reads the SQLite store, tests give a list. */
  public interface KeySource {
    /** The keys, or throws when the store exists but cannot be read. */
    List<KeyRecord> keys() throws Exception;

    /** Where they are, for the report. */
    String describe();

    /** False when there is no store at all (nothing to audit, not an error). */
    boolean exists();
  }

  /**
   * What the audit produced.
   *
   * @param subject Gatehouse as examined
   * @param findings its problems
   * @param notes what was skipped and why
   */
  public record Result(Subject subject, List<Finding> findings, List<String> notes) {}

  private ConfigAudit() {}

  /**
   * Audits a configuration that loaded, or reports why it did not.
   *
   * @param config the loaded configuration, or null when it failed to load
   * @param source the file it came from, or null for defaults and environment only
   * @param problems why it failed to load (empty when it loaded)
   */
  public static Result audit(
      @Nullable GatehouseConfig config,
      @Nullable Path source,
      List<String> problems,
      KeySource keys,
      Instant now) {
    List<Finding> findings = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    String where = source == null ? "defaults and GATEHOUSE_* environment" : source.toString();
    String location = source == null ? null : source.toAbsolutePath().toString();
    if (config == null) {
      findings.add(
          Finding.of(Rule.CONFIG_INVALID, Rule.CONFIG_INVALID.usual(), "gatehouse config " + where)
              .withEvidence(problems)
              .withFix(
                  "Correct each line above in "
                      + where
                      + "; gatehouse serve prints the same list. Then run gatehouse doctor again.")
              .withLocation(location));
      findings.addAll(IdentityAudit.fromProblems(problems, where, location));
      return new Result(
          new Subject("gatehouse", "config " + where)
              .with("status", "invalid: " + problems.size() + " problem(s)"),
          findings,
          notes);
    }
    Subject subject =
        new Subject("gatehouse", "config " + where)
            .with("listen", (config.tlsEnabled() ? "https://" : "http://") + config.listen())
            .with("upstream", config.upstream().toString())
            .with("authentication", config.authEnabled() ? "on" : "off")
            .with(
                "admin listener",
                config.admin().listen() == null
                    ? "off"
                    : "http://" + config.admin().listen() + "/metrics");

    // profile: prod that is not: each gap its own finding, with the line to change
    if (config.profile() == GatehouseConfig.Profile.PROD) {
      for (ProfileSection.Gap g : ProfileSection.gaps(config)) {
        findings.add(
            Finding.of(
                    Rule.CONFIG_PROFILE_GAP,
                    Rule.CONFIG_PROFILE_GAP.usual(),
                    "profile prod: " + g.path())
                .withEvidence(g.line() + " in " + where)
                .withFix(g.fix())
                .withLocation(location));
      }
    }

    HostPort admin = config.admin().listen();
    if (admin != null && !admin.isLoopback()) {
      findings.add(
          Finding.of(
                  Rule.CONFIG_ADMIN_REMOTE,
                  Rule.CONFIG_ADMIN_REMOTE.usual(),
                  "admin.listen " + admin)
              .withEvidence(
                  "admin.listen: " + admin + " with admin.allow_remote: true in " + where,
                  "anyone who can reach it reads /metrics: key ids, model names, traffic and ban counts")
              .withFix(
                  "Bind admin.listen to 127.0.0.1 and scrape it from this machine, or firewall the port to the Prometheus server only.")
              .withLocation(location));
    }

    HostPort redirect = config.tls().redirectListen();
    if (redirect != null && !redirect.isLoopback()) {
      findings.add(
          Finding.of(
                  Rule.CONFIG_PLAIN_LISTENER,
                  Rule.CONFIG_PLAIN_LISTENER.usual(),
                  "tls.redirect_listen " + redirect)
              .withEvidence(
                  "tls.redirect_listen: "
                      + redirect
                      + " in "
                      + where
                      + " serves plain HTTP on a network address",
                  "a client configured with http:// sends its Authorization header in clear text before it is redirected")
              .withFix(
                  "Give every client the https:// URL, then remove tls.redirect_listen from "
                      + where
                      + " (or set it to a loopback address such as 127.0.0.1:"
                      + redirect.port()
                      + ").")
              .withLocation(location));
    }
    if (!config.authEnabled()) {
      findings.add(
          Finding.of(
                  Rule.CONFIG_AUTH_DISABLED,
                  Rule.CONFIG_AUTH_DISABLED.usual(),
                  "auth.enabled false")
              .withEvidence(
                  "auth.enabled: false in "
                      + where
                      + "; Gatehouse allows this only on loopback, "
                      + config.listen())
              .withFix(
                  "Set auth.enabled: true in "
                      + where
                      + " (or remove the line) and give each client a key: gatehouse keys create --name NAME.")
              .withLocation(location));
    }
    URI up = config.upstream();
    String upHost = up.getHost().replace("[", "").replace("]", "");
    if ("http".equals(up.getScheme()) && !new HostPort(upHost, up.getPort()).isLoopback()) {
      findings.add(
          Finding.of(
                  Rule.CONFIG_UPSTREAM_PLAINTEXT,
                  Rule.CONFIG_UPSTREAM_PLAINTEXT.usual(),
                  "upstream " + up)
              .withEvidence(
                  "upstream: "
                      + up
                      + " in "
                      + where
                      + " is another machine, reached over plain HTTP")
              .withFix(
                  "Run Gatehouse on the machine that runs the model server, with upstream: http://127.0.0.1:PORT, or reach it over"
                      + " an encrypted link (a VPN such as WireGuard, or an SSH tunnel) and point upstream at the tunnel's local end.")
              .withLocation(location));
    }
    findings.addAll(IdentityAudit.check(config, where, location));
    if (config.tlsEnabled()) {
      certificate(
          Objects.requireNonNull(config.tls().cert(), "tlsEnabled() means tls.cert is set"),
          now,
          findings);
    }
    Path clientCa = config.tls().clients().ca();
    if (clientCa != null) {
      try {
        findings.addAll(ClientCaCheck.check(clientCa, ClientCaCheck.jdkRoots()));
      } catch (java.security.GeneralSecurityException e) {
        notes.add("the client CA bundle was not compared with public roots: " + e.getMessage());
      }
    }
    subject = keys(keys, now, findings, subject);
    if (config.tlsEnabled()) {
      subject =
          subject.with(
              "certificate",
              Objects.requireNonNull(config.tls().cert(), "tlsEnabled() means tls.cert is set")
                  .toString());
    }
    return new Result(subject, findings, notes);
  }

  private static void certificate(Path cert, Instant now, List<Finding> findings) {
    X509Certificate leaf;
    try (InputStream in = Files.newInputStream(cert)) {
      Collection<? extends java.security.cert.Certificate> all =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (all.isEmpty() || !(all.iterator().next() instanceof X509Certificate x)) {
        throw new CertificateException("no certificate in the file");
      }
      leaf = x;
    } catch (IOException | CertificateException e) {
      findings.add(
          Finding.of(Rule.TLS_CERT_UNREADABLE, Rule.TLS_CERT_UNREADABLE.usual(), "tls.cert " + cert)
              .withEvidence("reading " + cert + ": " + e.getMessage())
              .withFix(
                  "Point tls.cert at a PEM certificate (-----BEGIN CERTIFICATE-----), or make one: gatehouse tls self-signed --host NAME.")
              .withLocation(cert.toAbsolutePath().toString()));
      return;
    }
    findings.addAll(
        certificateDates(
            leaf,
            now,
            "tls.cert " + cert,
            cert.toAbsolutePath().toString(),
            "Renew it and write the new PEM files over the old ones; Gatehouse loads them without a restart"
                + " (tls.reload_interval). A LAN certificate: gatehouse tls self-signed --host NAME --force."));
  }

  /** Expired, not yet valid, or expiring within {@link #EXPIRY_WARNING}; shared with scan. */
  public static List<Finding> certificateDates(
      X509Certificate leaf, Instant now, String subject, String location, String fix) {
    List<Finding> out = new ArrayList<>();
    Instant notAfter = leaf.getNotAfter().toInstant();
    Instant notBefore = leaf.getNotBefore().toInstant();
    String dates = "valid from " + notBefore + " to " + notAfter + " (checked at " + now + ")";
    if (now.isAfter(notAfter) || now.isBefore(notBefore)) {
      out.add(
          Finding.of(Rule.TLS_CERT_EXPIRED, Rule.TLS_CERT_EXPIRED.usual(), subject)
              .withEvidence(leaf.getSubjectX500Principal().getName() + ": " + dates)
              .withFix(fix)
              .withLocation(location));
    } else if (Duration.between(now, notAfter).compareTo(EXPIRY_WARNING) < 0) {
      long days = Duration.between(now, notAfter).toDays();
      out.add(
          Finding.of(Rule.TLS_CERT_EXPIRING, Rule.TLS_CERT_EXPIRING.usual(), subject)
              .withEvidence(
                  leaf.getSubjectX500Principal().getName() + ": " + dates,
                  "expires in " + days + (days == 1 ? " day" : " days"))
              .withFix(fix)
              .withLocation(location));
    }
    return out;
  }

  private static Subject keys(
      KeySource source, Instant now, List<Finding> findings, Subject subject) {
    if (!source.exists()) {
      return subject.with("keys", "no key store at " + source.describe() + "; keys not audited");
    }
    List<KeyRecord> all;
    try {
      all = source.keys();
    } catch (Exception e) {
      findings.add(
          Finding.of(
                  Rule.KEYSTORE_UNREADABLE,
                  Rule.KEYSTORE_UNREADABLE.usual(),
                  "key store " + source.describe())
              .withEvidence(String.valueOf(e.getMessage()))
              .withFix(
                  "Run gatehouse doctor as the user that runs Gatehouse (the store and server.secret are readable only by it),"
                      + " or check the file with: gatehouse keys list."));
      return subject.with("keys", "unreadable");
    }
    List<KeyRecord> active = all.stream().filter(k -> k.activeAt(now)).toList();
    for (KeyRecord k : active) {
      String who = "key " + k.id() + " (" + k.name() + ")";
      String replace = "gatehouse keys create --name '" + k.name() + "'";
      if (k.expiresAt() == null) {
        findings.add(
            Finding.of(Rule.KEY_NO_EXPIRY, Rule.KEY_NO_EXPIRY.usual(), who)
                .withEvidence("created " + k.createdAt() + ", expires: never")
                .withFix(
                    "Replace it with a key that expires: "
                        + replace
                        + " --expires 90d"
                        + modelsArg(k)
                        + scopesArg(k)
                        + "; give the new key to its user, then: gatehouse keys revoke "
                        + k.id()));
      }
      if (k.models().isEmpty()) {
        findings.add(
            Finding.of(Rule.KEY_NO_MODEL_LIMIT, Rule.KEY_NO_MODEL_LIMIT.usual(), who)
                .withEvidence("models: * (any), scopes: " + String.join(", ", k.scopes()))
                .withFix(
                    "Replace it with a key limited to the models its user needs: "
                        + replace
                        + " --models 'MODEL*'"
                        + scopesArg(k)
                        + "; give the new key to its user, then: gatehouse keys revoke "
                        + k.id()));
      }
      Set<String> risky = new TreeSet<>();
      Severity worst = Severity.LOW;
      for (String scope : k.scopes()) {
        Operation op = Operation.byScope(scope);
        if (op != null && RISKY.contains(op)) {
          risky.add(scope);
          if (op != Operation.MODELS_INSPECT) {
            worst = Severity.MEDIUM; // inspect reads; manage, account and cloud act
          }
        }
      }
      if (!risky.isEmpty()) {
        findings.add(
            Finding.of(Rule.KEY_RISKY_SCOPE, worst, who)
                .withEvidence(
                    "scopes: " + String.join(", ", k.scopes()),
                    "beyond the ordinary three: " + String.join(", ", risky))
                .withFix(
                    "If its user does not need "
                        + String.join(", ", risky)
                        + ", replace it: "
                        + replace
                        + " --scopes inference embeddings models.read"
                        + modelsArg(k)
                        + ", then: gatehouse keys revoke "
                        + k.id()
                        + ". Keep keys with these scopes few, short-lived and off shared machines."));
      }
    }
    return subject.with(
        "keys", active.size() + " active of " + all.size() + " in " + source.describe());
  }

  private static String modelsArg(KeyRecord k) {
    return k.models().isEmpty()
        ? ""
        : " --models " + String.join(" ", k.models().stream().map(m -> "'" + m + "'").toList());
  }

  private static String scopesArg(KeyRecord k) {
    return " --scopes " + String.join(" ", k.scopes());
  }
}
