package dev.gatehouse.doctor;

import dev.gatehouse.doctor.ClassProbes.Answer;
import dev.gatehouse.exchange.Operation;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The checks of one model server found on this machine: is it reachable from other machines, which
 * endpoint classes answer without credentials, does it allow any web origin, which advisories
 * affect its version, and is Gatehouse in front of it (or can clients go around it).
 */
public final class ServerCheck {

  /**
   * How the server relates to Gatehouse's configuration.
   *
   * @param upstreamOfGatehouse the configured upstream points at this server
   * @param gatehouseRunning Gatehouse answers on its configured listener
   * @param configFile the configuration file, or null when Gatehouse has none here
   * @param gatehouseListen Gatehouse's listen address, for evidence
   * @param granted the scopes some active key holds, or null when the keys could not be read
   */
  public record Relation(
      boolean upstreamOfGatehouse,
      boolean gatehouseRunning,
      @Nullable String configFile,
      String gatehouseListen,
      @Nullable Set<Operation> granted) {
    public Relation(
        boolean upstreamOfGatehouse,
        boolean gatehouseRunning,
        String configFile,
        String gatehouseListen) {
      this(upstreamOfGatehouse, gatehouseRunning, configFile, gatehouseListen, null);
    }

    public boolean inFront() {
      return upstreamOfGatehouse && gatehouseRunning;
    }
  }

  /**
   * What was observed about one server.
   *
   * @param identity what it is
   * @param listeners its listening sockets (one port; IPv4 and IPv6 may both be there)
   * @param owner the process holding the socket, or null when unknown
   * @param classes the verdict per endpoint class
   * @param cors evidence that any web origin is allowed; empty when not
   * @param relation how it relates to Gatehouse
   */
  public record Observed(
      Fingerprinter.Identity identity,
      List<Listener> listeners,
      Processes.@Nullable Info owner,
      Map<Operation, ClassProbes.Result> classes,
      List<String> cors,
      @Nullable Relation relation) {}

  /** What the check produced. */
  public record Result(Subject subject, List<Finding> findings) {}

  /** The classes whose openness makes an exposed server critical rather than high. */
  private static final Set<Operation> DANGEROUS =
      EnumSet.of(
          Operation.INFERENCE,
          Operation.MODELS_INSPECT,
          Operation.MODELS_MANAGE,
          Operation.ACCOUNT,
          Operation.CLOUD);

  private ServerCheck() {}

  public static Result check(Observed o, Advisories advisories) {
    Product product = o.identity().product();
    Listener shown =
        o.listeners().stream()
            .filter(Listener::reachableFromOthers)
            .findFirst()
            .orElse(o.listeners().get(0));
    boolean exposed = shown.reachableFromOthers();
    int port = shown.port();
    String name = o.identity().describe() + " at " + shown.hostPort();
    Set<Operation> open = ClassProbes.having(o.classes(), Answer.OPEN);
    List<Finding> findings = new ArrayList<>();
    String socket = socketEvidence(shown, o.owner());

    Subject subject =
        new Subject("server", name)
            .with(
                "process",
                o.owner() == null
                    ? "unknown (only root can see other users' processes)"
                    : o.owner().describe())
            .with(
                "listens on",
                o.listeners().stream()
                    .map(
                        l ->
                            l.hostPort()
                                + (l.reachableFromOthers()
                                    ? " (reachable from other machines)"
                                    : " (this machine only)"))
                    .collect(Collectors.joining(", ")))
            .with("identified by", String.join("; ", o.identity().evidence()))
            .with("open without credentials", ClassProbes.scopes(open))
            .with(
                "credentials required",
                ClassProbes.scopes(ClassProbes.having(o.classes(), Answer.PROTECTED)))
            .with(
                "Gatehouse in front",
                java.util.Objects.requireNonNull(o.relation()).inFront()
                    ? "yes, " + o.relation().gatehouseListen()
                    : o.relation().upstreamOfGatehouse()
                        ? "configured (" + o.relation().gatehouseListen() + ") but not running"
                        : "no");

    if (exposed) {
      Rule rule = shown.wildcard() ? Rule.EXPOSED_WILDCARD : Rule.EXPOSED_LAN;
      Severity severity =
          open.stream().anyMatch(DANGEROUS::contains)
              ? Severity.CRITICAL
              : !open.isEmpty() ? Severity.HIGH : Severity.MEDIUM;
      findings.add(
          Finding.of(rule, severity, name)
              .withEvidence(
                  socket,
                  "open without credentials: " + ClassProbes.scopes(open),
                  "a firewall may still block the port; doctor cannot see firewall rules, so treat this as reachable until checked")
              .withFix(Fixes.loopback(product, port) + "\n" + Fixes.gatehouseInFront(port)));
      for (Operation op : open) {
        Rule r = Rule.unauth(op);
        findings.add(
            Finding.of(r, r.usual(), name)
                .withEvidence(java.util.Objects.requireNonNull(o.classes().get(op)).evidence())
                .withEvidence(socket)
                .withFix(
                    Fixes.loopback(product, port)
                        + "\n"
                        + Fixes.gatehouseInFront(port)
                        + "\nGatehouse grants "
                        + op.scope
                        + (Operation.DEFAULT_SCOPES.contains(op)
                            ? " only to keys that hold it."
                            : " to no key unless it is given explicitly (--scopes "
                                + op.scope
                                + ").")));
      }
    }
    if (!o.cors().isEmpty()) {
      findings.add(
          Finding.of(Rule.CORS_WILDCARD, open.isEmpty() ? Severity.MEDIUM : Severity.HIGH, name)
              .withEvidence(o.cors())
              .withEvidence(
                  "a page on any web site, opened in a browser on a machine that can reach "
                      + shown.hostPort()
                      + ", can call and read this API")
              .withFix(
                  product == Product.OLLAMA
                      ? "Remove * from OLLAMA_ORIGINS (list only the origins that need access, such as app://obsidian.md), then restart Ollama."
                      : "Turn off the server's CORS wildcard (allow only the origins that need access), then restart it."));
    }
    Relation rel =
        java.util.Objects.requireNonNull(o.relation()); // check() is given the relation (Doctor)
    if (rel.upstreamOfGatehouse() && exposed) {
      findings.add(
          Finding.of(Rule.GATEWAY_BYPASS, Rule.GATEWAY_BYPASS.usual(), name)
              .withEvidence(
                  "Gatehouse ("
                      + rel.gatehouseListen()
                      + ", "
                      + rel.configFile()
                      + ") forwards to this server",
                  socket
                      + ": clients can connect to it directly and skip every key, scope and model check")
              .withFix(Fixes.loopback(product, port)));
    } else if (rel.upstreamOfGatehouse() && !rel.gatehouseRunning()) {
      findings.add(
          Finding.of(Rule.GATEWAY_NOT_RUNNING, Rule.GATEWAY_NOT_RUNNING.usual(), name)
              .withEvidence(
                  rel.configFile()
                      + " puts Gatehouse at "
                      + rel.gatehouseListen()
                      + " in front of this server; nothing answers there as Gatehouse")
              .withFix(
                  "Start it: gatehouse serve --config "
                      + rel.configFile()
                      + " (or start its service), and give clients Gatehouse's address and keys."));
    } else if (!rel.upstreamOfGatehouse() && !exposed) {
      findings.add(
          Finding.of(Rule.NO_GATEWAY, Rule.NO_GATEWAY.usual(), name)
              .withEvidence(socket, "open without credentials: " + ClassProbes.scopes(open))
              .withFix(
                  "Put Gatehouse in front and give clients its address and a key: gatehouse serve --upstream http://127.0.0.1:"
                      + port
                      + "."));
    }

    if (product.advisoryKey != null) {
      Version version = version(product, o.identity().version());
      List<Advisory> undecided = advisories.undecided(product.advisoryKey, version);
      if (!undecided.isEmpty()) {
        findings.add(
            versionUnknown(product, o.identity().version(), version, undecided, name, null));
      }
      String why =
          "it listens on loopback only" + (rel.inFront() ? " and Gatehouse is in front" : "");
      findings.addAll(
          AdvisoryCheck.findings(
              advisories,
              product.advisoryKey,
              version,
              new AdvisoryCheck.Exposure(exposed, open, rel.inFront(), why, rel.granted()),
              name,
              null));
    }
    return new Result(subject, findings);
  }

  /**
   * The version a server reported, in its product's scheme: Ollama, LocalAI and llama.cpp's {@code
   * v0.x.y} tags are SemVer, vLLM is PEP 440, llama.cpp's {@code bNNNN} builds are build numbers,
   * LM Studio its own. Null when there is none or it does not parse, and for Ollama's development
   * builds, which report {@code 0.0.0} whatever code they contain.
   */
  public static @Nullable Version version(Product product, @Nullable String reported) {
    if (reported == null) {
      return null;
    }
    Version v =
        switch (product) {
          case OLLAMA, LOCALAI -> Version.parse(Version.Scheme.SEMVER, reported);
          case VLLM -> Version.parse(Version.Scheme.PEP440, reported);
          case LM_STUDIO -> Version.parse(Version.Scheme.LMSTUDIO, reported);
          case LLAMA_CPP ->
              reported.matches("[bB]\\d+")
                  ? Version.parse(Version.Scheme.LLAMA_BUILD, reported)
                  : Version.parse(Version.Scheme.SEMVER, reported);
          default -> null;
        };
    if (v != null && product == Product.OLLAMA && v.allZero()) {
      return null;
    }
    return v;
  }

  /**
   * The note that some advisories could not be judged, instead of reporting them as affecting the
   * server.
   */
  public static Finding versionUnknown(
      Product product,
      @Nullable String reported,
      @Nullable Version version,
      List<Advisory> undecided,
      String name,
      @Nullable String location) {
    String why;
    if (reported == null) {
      why =
          product == Product.LM_STUDIO
              ? "LM Studio does not report its version over its API: its /api/v0 and /v1 answers and its headers carry none"
              : "the server did not report a version";
    } else if (version == null) {
      why =
          "version "
              + reported
              + " cannot be read as a "
              + product.display
              + " release (a development build, or an unknown scheme)";
    } else {
      why =
          product.display
              + " "
              + reported
              + " is a "
              + Advisory.label(version.scheme()).replaceAll("s$", "")
              + " in a scheme these advisories do not give ranges in (llama.cpp builds bNNNN and its v0.x tags are never compared)";
    }
    String ids =
        undecided.stream().map(Advisory::id).sorted().limit(12).collect(Collectors.joining(", "))
            + (undecided.size() > 12 ? " and " + (undecided.size() - 12) + " more" : "");
    String check =
        switch (product) {
          case OLLAMA -> "ollama --version";
          case LLAMA_CPP -> "llama-server --version (it prints the build number)";
          case VLLM -> "vllm --version";
          case LOCALAI -> "local-ai --version";
          case LM_STUDIO -> "lms version, or LM Studio's About box";
          default -> "the server's --version";
        };
    return Finding.of(Rule.VERSION_UNKNOWN, Rule.VERSION_UNKNOWN.usual(), name)
        .withTitle(
            "unknown version: "
                + undecided.size()
                + " advisor"
                + (undecided.size() == 1 ? "y was" : "ies were")
                + " not checked")
        .withEvidence(why, "not judged: " + ids)
        .withFix(
            "Check the version where the server runs ("
                + check
                + ") against docs/advisories.md, or upgrade to the newest release.")
        .withLocation(location);
  }

  static String socketEvidence(Listener l, Processes.@Nullable Info owner) {
    return l.table()
        + ": "
        + l.hostPort()
        + " LISTEN, inode "
        + l.inode()
        + (owner == null ? "" : ", " + owner.describe());
  }
}
