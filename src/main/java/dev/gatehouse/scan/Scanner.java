package dev.gatehouse.scan;

import dev.gatehouse.doctor.Advisories;
import dev.gatehouse.doctor.AdvisoryCheck;
import dev.gatehouse.doctor.ClassProbes;
import dev.gatehouse.doctor.ConfigAudit;
import dev.gatehouse.doctor.Finding;
import dev.gatehouse.doctor.Fingerprinter;
import dev.gatehouse.doctor.HttpProbe;
import dev.gatehouse.doctor.HttpProbe.Request;
import dev.gatehouse.doctor.Product;
import dev.gatehouse.doctor.Rule;
import dev.gatehouse.doctor.ServerCheck;
import dev.gatehouse.doctor.Session;
import dev.gatehouse.doctor.Severity;
import dev.gatehouse.doctor.Subject;
import dev.gatehouse.doctor.Version;
import dev.gatehouse.exchange.Operation;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * {@code gatehouse scan}: what the network sees of one URL. In order: the TLS handshake (protocol,
 * certificate, names, dates), which product answers, whether each endpoint class demands
 * credentials, what the responses leak, whether a rate limit answers, and which advisories match a
 * leaked version. Every request goes through one {@link Session}, so the per-target bound on
 * requests and pace holds whatever the checks do; every request is one of {@link ClassProbes}'s
 * harmless ones or a plain read.
 */
public final class Scanner {

  /** The default and the ceiling of requests per target. */
  public static final int MAX_REQUESTS = 40;

  /** The default pause between two requests to the same target. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(100);

  /** Requests sent in a row to see whether a rate limit answers. */
  static final int RATE_BURST = 6;

  /** A path no server has: its 404 (or lack of one) shows the server's error style. */
  static final String NONEXISTENT_PATH = "/gatehouse-scan-nonexistent-path";

  /**
   * How hard to probe.
   *
   * @param maxRequests requests per target, 1 to {@link #MAX_REQUESTS}
   * @param minInterval pause between two requests to one target
   * @param timeout longest wait for a connection, handshake or response
   */
  public record Options(int maxRequests, Duration minInterval, Duration timeout) {}

  /**
   * What one target showed.
   *
   * @param subject the target as examined
   * @param findings its problems
   * @param notes what was skipped and why
   * @param error why it could not be scanned, or null
   * @param requests how many HTTP requests were sent
   */
  public record Result(
      Subject subject,
      List<Finding> findings,
      List<String> notes,
      @Nullable String error,
      int requests) {}

  private final HttpProbe http;
  private final Advisories advisories;
  private final Clock clock;
  private final Options options;

  public Scanner(HttpProbe http, Advisories advisories, Clock clock, Options options) {
    if (options.maxRequests() < 1 || options.maxRequests() > MAX_REQUESTS) {
      throw new IllegalArgumentException(
          "--max-requests: " + options.maxRequests() + " (expected: 1-" + MAX_REQUESTS + ")");
    }
    this.http = http;
    this.advisories = advisories;
    this.clock = clock;
    this.options = options;
  }

  public Result scan(ScanTarget target) {
    String name = target.toString();
    List<Finding> findings = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    Subject subject = new Subject("target", name);

    if (target.tls()) {
      TlsInspector.Facts tls =
          TlsInspector.inspect(target.host(), target.port(), options.timeout());
      if (tls.error() != null) {
        findings.add(
            Finding.of(Rule.TLS_HANDSHAKE_FAILED, Rule.TLS_HANDSHAKE_FAILED.usual(), name)
                .withEvidence(
                    tls.error(),
                    "Java here offers TLS 1.2 and 1.3 only: a server that speaks nothing newer than TLS 1.1 fails this way")
                .withFix(
                    "Serve TLS 1.2 or 1.3 with a valid certificate; Gatehouse does by default (tls.cert, tls.key).")
                .withLocation(name));
        return new Result(
            subject.with("tls", "handshake failed"),
            findings,
            notes,
            name + ": TLS handshake failed: " + tls.error(),
            0);
      }
      subject = subject.with("tls", tls.protocol() + ", " + tls.cipherSuite());
      findings.addAll(tlsFindings(target, tls));
    } else if (!target.loopback()) {
      findings.add(
          Finding.of(Rule.TLS_NONE, Rule.TLS_NONE.usual(), name)
              .withEvidence(
                  name
                      + " is plain HTTP on "
                      + target.host()
                      + ", which other machines reach over the network")
              .withFix(
                  "Serve it over HTTPS: set tls.cert and tls.key in gatehouse.yaml (gatehouse tls self-signed --host "
                      + target.host()
                      + " makes a pair) and give clients the https:// URL.")
              .withLocation(name));
    }

    Session session =
        new Session(http, target.base(), options.maxRequests(), options.minInterval());
    Fingerprinter.Identity id = Fingerprinter.identify(session);
    if (session.unreachable()) {
      String why =
          java.util.Objects.requireNonNull(
              session.exchanges().get(0).error()); // set for every failed request
      findings.add(
          Finding.of(Rule.SCAN_UNREACHABLE, Rule.SCAN_UNREACHABLE.usual(), name)
              .withEvidence(why)
              .withFix(
                  "Check the URL and that the server runs; scan only reaches what the machine running it can reach.")
              .withLocation(name));
      return new Result(
          subject.with("reachable", "no: " + why),
          findings,
          notes,
          name + ": unreachable: " + why,
          session.sent());
    }
    Map<Operation, ClassProbes.Result> classes = ClassProbes.run(session, id.product());
    session.send(Request.get(NONEXISTENT_PATH));
    for (int i = 0; i < RATE_BURST && !session.exhausted(); i++) {
      session.send(Request.get("/api/version"));
    }

    Set<Operation> open = ClassProbes.having(classes, ClassProbes.Answer.OPEN);
    subject =
        subject
            .with(
                "answered by",
                id.product() == Product.UNKNOWN
                    ? "unidentified (" + String.join("; ", id.evidence()) + ")"
                    : id.product() == Product.GATEHOUSE
                        ? "gatehouse (the model server behind it is not visible)"
                        : id.describe())
            .with("APIs", apis(session))
            .with("open without credentials", ClassProbes.scopes(open))
            .with(
                "credentials required",
                ClassProbes.scopes(ClassProbes.having(classes, ClassProbes.Answer.PROTECTED)))
            .with(
                "not present",
                ClassProbes.scopes(ClassProbes.having(classes, ClassProbes.Answer.ABSENT)))
            .with(
                "inconclusive",
                ClassProbes.scopes(ClassProbes.having(classes, ClassProbes.Answer.UNKNOWN)))
            .with(
                "requests",
                session.sent()
                    + " of at most "
                    + session.maxRequests()
                    + ", at least "
                    + options.minInterval().toMillis()
                    + " ms apart");

    for (Operation op : open) {
      Rule r = Rule.unauth(op);
      findings.add(
          Finding.of(r, r.usual(), name)
              .withEvidence(java.util.Objects.requireNonNull(classes.get(op)).evidence())
              .withFix(
                  "Put Gatehouse in front of the server and publish only Gatehouse: it asks every request for a key and grants "
                      + op.scope
                      + (Operation.DEFAULT_SCOPES.contains(op)
                          ? " only to keys that hold it."
                          : " to no key unless given explicitly (--scopes " + op.scope + ").")
                      + " Bind the server itself to 127.0.0.1.")
              .withLocation(name));
    }
    List<String> cors = ClassProbes.corsEvidence(session.exchanges());
    if (!cors.isEmpty()) {
      findings.add(
          Finding.of(Rule.CORS_WILDCARD, open.isEmpty() ? Severity.MEDIUM : Severity.HIGH, name)
              .withEvidence(cors)
              .withFix(
                  id.product() == Product.OLLAMA
                      ? "Remove * from OLLAMA_ORIGINS and restart Ollama."
                      : "Turn off the CORS wildcard; allow only the origins that need access.")
              .withLocation(name));
    }
    findings.addAll(LeakCheck.findings(session, name, name));
    List<String> rate = LeakCheck.rateLimitEvidence(session);
    if (rate.isEmpty()) {
      findings.add(
          Finding.of(Rule.NO_RATE_LIMIT, Rule.NO_RATE_LIMIT.usual(), name)
              .withEvidence(
                  session.sent()
                      + " requests, the last "
                      + RATE_BURST
                      + " in a row "
                      + options.minInterval().toMillis()
                      + " ms apart: no 429 and no RateLimit header",
                  "a limit above that rate, or one that counts only failed keys, would not show")
              .withFix(
                  "Limit requests per client in front of the server (a reverse proxy's rate limit), so a leaked or guessed key cannot"
                      + " be used at machine speed.")
              .withLocation(name));
    } else {
      subject = subject.with("rate limit", String.join("; ", rate));
    }
    if (id.product().advisoryKey != null) {
      Version v = ServerCheck.version(id.product(), id.version());
      findings.addAll(
          AdvisoryCheck.findings(
              advisories,
              id.product().advisoryKey,
              v,
              new AdvisoryCheck.Exposure(true, open, false, ""),
              name,
              name));
      List<dev.gatehouse.doctor.Advisory> undecided =
          advisories.undecided(id.product().advisoryKey, v);
      if (!undecided.isEmpty()) {
        findings.add(
            ServerCheck.versionUnknown(id.product(), id.version(), v, undecided, name, name));
      }
    }
    if (session.exhausted()) {
      notes.add(
          name
              + ": the budget of "
              + session.maxRequests()
              + " requests ran out; classes marked inconclusive were not probed");
    }
    return new Result(subject, findings, notes, null, session.sent());
  }

  private List<Finding> tlsFindings(ScanTarget target, TlsInspector.Facts tls) {
    String name = target.toString();
    List<Finding> out = new ArrayList<>();
    if (!"TLSv1.3".equals(tls.protocol()) && !"TLSv1.2".equals(tls.protocol())) {
      out.add(
          Finding.of(Rule.TLS_OLD_PROTOCOL, Rule.TLS_OLD_PROTOCOL.usual(), name)
              .withEvidence("negotiated " + tls.protocol() + " with " + tls.cipherSuite())
              .withFix("Disable TLS 1.0 and 1.1 on the server; offer TLS 1.2 and 1.3 only.")
              .withLocation(name));
    }
    X509Certificate leaf = tls.leaf();
    if (leaf == null) {
      return out;
    }
    String cert =
        leaf.getSubjectX500Principal().getName()
            + ", names "
            + TlsInspector.names(leaf)
            + ", valid until "
            + leaf.getNotAfter().toInstant();
    boolean selfSigned = tls.chain().size() == 1 && TlsInspector.selfSigned(leaf);
    String renew =
        selfSigned
            ? "Make a new one: gatehouse tls self-signed --host "
                + target.host()
                + " --force, and give clients its fingerprint."
            : "Renew the certificate (ACME clients such as certbot or Caddy do it automatically) and reload the server.";
    out.addAll(ConfigAudit.certificateDates(leaf, clock.instant(), name, name, renew));
    if (!TlsInspector.namesHost(leaf, target.host())) {
      out.add(
          Finding.of(Rule.TLS_CERT_HOSTNAME, Rule.TLS_CERT_HOSTNAME.usual(), name)
              .withEvidence("certificate " + cert, "scanned host: " + target.host())
              .withFix(
                  "Issue a certificate whose subject alternative names include "
                      + target.host()
                      + (selfSigned
                          ? ": gatehouse tls self-signed --host " + target.host() + " --force."
                          : "."))
              .withLocation(name));
    }
    if (selfSigned) {
      out.add(
          Finding.of(Rule.TLS_CERT_SELF_SIGNED, Rule.TLS_CERT_SELF_SIGNED.usual(), name)
              .withEvidence("certificate " + cert, "issuer = subject, signed by its own key")
              .withFix(
                  "Fine on a LAN if every client pins it by its SHA-256 fingerprint (gatehouse tls self-signed prints it)."
                      + " For clients you do not control, use a certificate from a public CA.")
              .withLocation(name));
    } else if (!TlsInspector.trusted(tls.chain())) {
      out.add(
          Finding.of(Rule.TLS_CERT_UNTRUSTED, Rule.TLS_CERT_UNTRUSTED.usual(), name)
              .withEvidence(
                  "certificate " + cert,
                  "issuer "
                      + leaf.getIssuerX500Principal().getName()
                      + " does not lead to a root in the Java trust store")
              .withFix(
                  "Serve the full chain (tls.chain holds the intermediates), or distribute your private CA's root to every client.")
              .withLocation(name));
    }
    return out;
  }

  /**
   * Which of the two APIs answered at all: Ollama's native {@code /api/*}, OpenAI's {@code /v1/*}.
   */
  static String apis(Session session) {
    boolean nativeApi = false;
    boolean openAi = false;
    boolean refused = false;
    for (Session.Exchange e : session.exchanges()) {
      HttpProbe.Response r = e.response();
      if (r == null) {
        continue;
      }
      if (r.status() == 401 || r.status() == 403) {
        refused = true;
        continue;
      }
      if ((r.status() == 404 && !r.body().contains(ClassProbes.BOGUS_MODEL))
          || Fingerprinter.lmStudioUnexpected(r)) {
        continue;
      }
      nativeApi |=
          e.request().path().startsWith("/api/") && !e.request().path().startsWith("/api/v0/");
      openAi |= e.request().path().startsWith("/v1/");
    }
    List<String> out = new ArrayList<>();
    if (nativeApi) {
      out.add("Ollama native (/api/*)");
    }
    if (openAi) {
      out.add("OpenAI-compatible (/v1/*)");
    }
    if (out.isEmpty()) {
      return refused ? "not visible without credentials" : "none recognised";
    }
    return String.join(", ", out);
  }
}
