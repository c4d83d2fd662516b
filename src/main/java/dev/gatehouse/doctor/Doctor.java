package dev.gatehouse.doctor;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.HostPort;
import dev.gatehouse.exchange.Operation;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * {@code gatehouse doctor}: a local audit. Finds model servers on this machine from its listening
 * sockets and the processes holding them, reads the Ollama settings from the environment and
 * systemd units, identifies each server over loopback, and judges it ({@link ServerCheck}); then
 * audits Gatehouse's own configuration and keys ({@link ConfigAudit}). It connects only to
 * addresses of this machine, and sends only the harmless probes of {@link ClassProbes}.
 *
 * <p>Everything it reads from the machine comes through {@link Inputs}, so tests can give it a fake
 * proc tree, fake units, an environment and fake servers.
 */
public final class Doctor {

  /**
   * Ports model servers and their front ends use by default (see probe-signatures.md): Ollama
   * 11434, vLLM 8000, llama.cpp and LocalAI 8080, LM Studio 1234, and the others scanners sweep.
   */
  public static final List<Integer> KNOWN_PORTS =
      List.of(
          11434, 8000, 8080, 8081, 1234, 4000, 5000, 5001, 7860, 3000, 3001, 3080, 3210, 8888, 9000,
          30000);

  /** The most requests doctor sends to one local server. */
  public static final int MAX_REQUESTS = 40;

  /**
   * Everything doctor reads.
   *
   * @param procRoot the proc file system, normally {@code /proc}
   * @param systemdDirs where systemd units are searched
   * @param env the environment doctor runs in
   * @param ports ports to look at, besides those the configuration and OLLAMA_HOST name
   * @param config Gatehouse's configuration, or the defaults when it did not load
   * @param configFile the file it was read from, or null when none exists
   * @param configProblems why the configuration did not load; empty when it did
   * @param keys the key store
   * @param advisories the advisory database
   * @param http how requests are sent
   * @param clock the time source
   * @param toolVersion Gatehouse's version, for the report
   * @param failOn the severity that makes the exit status 1
   */
  public record Inputs(
      Path procRoot,
      List<Path> systemdDirs,
      Map<String, String> env,
      List<Integer> ports,
      GatehouseConfig config,
      @Nullable Path configFile,
      List<String> configProblems,
      ConfigAudit.KeySource keys,
      Advisories advisories,
      HttpProbe http,
      Clock clock,
      String toolVersion,
      Severity failOn,
      boolean insideGateway) {

    /**
     * Inputs for a run from the command line. {@code insideGateway} is true only for the periodic
     * check that {@code serve} runs in the gateway's own process: it must not probe its own
     * listener without a key, or its own probe detector would take the sweep for a scanner and ban
     * this machine's address.
     */
    public Inputs(
        Path procRoot,
        List<Path> systemdDirs,
        Map<String, String> env,
        List<Integer> ports,
        GatehouseConfig config,
        @Nullable Path configFile,
        List<String> configProblems,
        ConfigAudit.KeySource keys,
        Advisories advisories,
        HttpProbe http,
        Clock clock,
        String toolVersion,
        Severity failOn) {
      this(
          procRoot,
          systemdDirs,
          env,
          ports,
          config,
          configFile,
          configProblems,
          keys,
          advisories,
          http,
          clock,
          toolVersion,
          failOn,
          false);
    }

    /**
     * Inputs for a run inside the gateway's own process (the periodic posture check, the admin
     * API's doctor): this machine's {@code /proc} and systemd units, the usual model-server ports,
     * the advisories of the data directory (read at each run, so an {@code advisories update} takes
     * effect; the built-in ones when those are unreadable), failing on high.
     */
    public static Inputs inGateway(
        GatehouseConfig config,
        @Nullable Path configFile,
        Map<String, String> env,
        ConfigAudit.KeySource keys,
        HttpProbe http,
        Clock clock,
        String toolVersion) {
      Advisories db;
      try {
        db = Advisories.forDataDir(config.dataDir());
      } catch (IllegalArgumentException e) {
        LOG.warning(
            "posture: imported advisories unreadable, using the built-in ones: " + e.getMessage());
        db = Advisories.builtIn();
      }
      return new Inputs(
          Path.of("/proc"),
          OllamaEnv.SYSTEMD_DIRS,
          env,
          KNOWN_PORTS,
          config,
          configFile,
          List.of(),
          keys,
          db,
          http,
          clock,
          toolVersion,
          Severity.HIGH,
          true);
    }
  }

  private static final java.util.logging.Logger LOG =
      java.util.logging.Logger.getLogger("gatehouse.posture");

  private Doctor() {}

  public static Report run(Inputs in) {
    List<String> notes = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    List<Finding> findings = new ArrayList<>();
    List<Subject> checked = new ArrayList<>();
    GatehouseConfig config = in.config();

    List<OllamaEnv.Source> sources = new ArrayList<>();
    OllamaEnv.Source shell =
        OllamaEnv.fromEnvironment(
            OllamaEnv.Kind.SHELL, "the environment gatehouse doctor runs in", in.env());
    if (shell != null) {
      sources.add(shell);
    }
    sources.addAll(OllamaEnv.systemdUnits(in.systemdDirs()));

    List<Listener> all = List.of();
    try {
      all = ProcNet.listeners(in.procRoot());
    } catch (IOException e) {
      errors.add(
          "cannot read the listening sockets in "
              + in.procRoot().resolve("net")
              + ": "
              + e.getMessage());
    }
    Set<Integer> ports = new TreeSet<>(in.ports());
    ports.add(config.listen().port());
    int upstreamPort = upstreamPort(config.upstream());
    ports.add(upstreamPort);
    for (OllamaEnv.Source s : sources) {
      String host = s.vars().get("OLLAMA_HOST");
      if (host != null) {
        ports.add(OllamaEnv.parseHost(host).port());
      }
    }
    Map<Integer, List<Listener>> byPort = new TreeMap<>();
    for (Listener l : all) {
      if (ports.contains(l.port())) {
        byPort.computeIfAbsent(l.port(), k -> new ArrayList<>()).add(l);
      }
    }
    Set<Long> inodes = new HashSet<>();
    byPort.values().forEach(ls -> ls.forEach(l -> inodes.add(l.inode())));
    Map<Long, Processes.Info> owners = Processes.owners(in.procRoot(), inodes);
    Set<Integer> seenPids = new HashSet<>();
    for (Processes.Info p : owners.values()) {
      if (p.environment() != null && seenPids.add(p.pid())) {
        OllamaEnv.Source s =
            OllamaEnv.fromEnvironment(
                OllamaEnv.Kind.PROCESS, "the environment of " + p.describe(), p.environment());
        if (s != null) {
          sources.add(s);
        }
      }
    }
    findings.addAll(EnvCheck.findings(sources, notes));

    // Identify what listens on each port first: whether Gatehouse runs decides how servers are
    // judged.
    Map<Integer, ServerCheck.Observed> servers = new LinkedHashMap<>();
    List<Subject> gatehouses = new ArrayList<>();
    boolean gatehouseRunning = false;
    for (Map.Entry<Integer, List<Listener>> e : byPort.entrySet()) {
      int port = e.getKey();
      List<Listener> listeners = e.getValue();
      Processes.Info owner = owners.get(listeners.get(0).inode());
      boolean tls = port == config.listen().port() && config.tlsEnabled();
      if (in.insideGateway() && port == config.listen().port()) {
        gatehouses.add(
            new Subject("gatehouse", "gatehouse at " + listeners.get(0).hostPort())
                .with("process", "this one (not probed by its own periodic check)"));
        gatehouseRunning = true;
        continue;
      }
      URI base =
          URI.create(
              (tls ? "https://" : "http://") + Listener.host(probeAddress(listeners)) + ":" + port);
      Session session = new Session(in.http(), base, MAX_REQUESTS, Duration.ZERO);
      Fingerprinter.Identity id = Fingerprinter.identify(session);
      String where =
          listeners.get(0).hostPort() + (owner == null ? "" : " (" + owner.describe() + ")");
      if (id.product() == Product.GATEHOUSE) {
        Map<Operation, ClassProbes.Result> classes = ClassProbes.run(session, id.product());
        boolean allRefused = ClassProbes.having(classes, ClassProbes.Answer.OPEN).isEmpty();
        gatehouses.add(
            new Subject("gatehouse", "gatehouse at " + listeners.get(0).hostPort())
                .with("process", owner == null ? "unknown" : owner.describe())
                .with(
                    "without a key",
                    allRefused
                        ? "every probed endpoint class answered 401"
                        : "some endpoint classes answered: "
                            + ClassProbes.scopes(
                                ClassProbes.having(classes, ClassProbes.Answer.OPEN))));
        if (port == config.listen().port()) {
          gatehouseRunning = true;
        }
        continue;
      }
      if (port == config.listen().port() && !config.authEnabled() && answeredAsGatehouse(session)) {
        // With auth.enabled false Gatehouse relays GET / and looks like its upstream; its
        // X-Request-Id on every answer tells it apart. The config audit reports auth being off.
        gatehouses.add(
            new Subject("gatehouse", "gatehouse at " + listeners.get(0).hostPort())
                .with("process", owner == null ? "unknown" : owner.describe())
                .with("without a key", "answers: auth.enabled is false"));
        gatehouseRunning = true;
        continue;
      }
      if (!id.product().isModelServer()) {
        boolean answered = session.exchanges().stream().anyMatch(x -> x.response() != null);
        notes.add(
            where
                + ": "
                + (answered
                    ? "answers HTTP but matches no model server signature; not checked"
                    : "no HTTP answer; not checked"));
        continue;
      }
      Map<Operation, ClassProbes.Result> classes = ClassProbes.run(session, id.product());
      servers.put(
          port,
          new ServerCheck.Observed(
              id, listeners, owner, classes, ClassProbes.corsEvidence(session.exchanges()), null));
    }

    String configFile = in.configFile() == null ? null : in.configFile().toString();
    Set<Operation> granted = granted(in.keys(), in.clock().instant());
    String listen = (config.tlsEnabled() ? "https://" : "http://") + config.listen();
    for (Map.Entry<Integer, ServerCheck.Observed> e : servers.entrySet()) {
      ServerCheck.Observed o = e.getValue();
      // Without a configuration file the defaults name 127.0.0.1:11434 as upstream; that is not
      // an intention to run Gatehouse, so only a real file makes a server "Gatehouse's upstream".
      boolean isUpstream =
          (in.configFile() != null || gatehouseRunning)
              && e.getKey() == upstreamPort
              && upstreamIsHere(config.upstream(), o.listeners());
      ServerCheck.Relation rel =
          new ServerCheck.Relation(isUpstream, gatehouseRunning, configFile, listen, granted);
      ServerCheck.Result r =
          ServerCheck.check(
              new ServerCheck.Observed(
                  o.identity(), o.listeners(), o.owner(), o.classes(), o.cors(), rel),
              in.advisories());
      checked.add(r.subject());
      findings.addAll(r.findings());
    }
    checked.addAll(gatehouses);
    if (servers.isEmpty()) {
      notes.add(
          "no model server found; ports looked at: " + ports.toString().replaceAll("[\\[\\]]", ""));
    }
    if (in.configFile() != null
        && !byPort.containsKey(upstreamPort)
        && new HostPort(config.upstream().getHost().replace("[", "").replace("]", ""), 1)
            .isLoopback()) {
      notes.add(
          "Gatehouse's upstream "
              + config.upstream()
              + " is not running: nothing listens on port "
              + upstreamPort);
    }
    if (in.configFile() != null && !byPort.containsKey(config.listen().port())) {
      notes.add(
          "Gatehouse ("
              + listen
              + ", from "
              + configFile
              + ") is not running: nothing listens on port "
              + config.listen().port());
    }

    ConfigAudit.Result audit =
        ConfigAudit.audit(
            in.configProblems().isEmpty() ? config : null,
            in.configFile(),
            in.configProblems(),
            in.keys(),
            in.clock().instant());
    checked.add(audit.subject());
    findings.addAll(audit.findings());
    notes.addAll(audit.notes());
    findings.addAll(dataAge(in.advisories(), in.clock().instant(), notes));

    Instant now = in.clock().instant();
    return new Report(
        "doctor", in.toolVersion(), now, in.failOn(), checked, notes, findings, errors);
  }

  /**
   * How current the advisory data is: a note always, and {@link Rule#ADVISORIES_STALE} once the
   * newest entry is more than {@link Advisories#STALE} old (advisories published since are
   * missing).
   */
  public static List<Finding> dataAge(Advisories db, Instant now, List<String> notes) {
    Instant newest = db.newest();
    long days = db.age(now).toDays();
    notes.add(
        "advisories: "
            + db.all().size()
            + " from "
            + db.source()
            + "; newest entry modified "
            + newest.toString().substring(0, 10)
            + " ("
            + days
            + " day"
            + (days == 1 ? "" : "s")
            + " before this run)");
    if (db.age(now).compareTo(Advisories.STALE) <= 0) {
      return List.of();
    }
    return List.of(
        Finding.of(Rule.ADVISORIES_STALE, Rule.ADVISORIES_STALE.usual(), "advisory data")
            .withEvidence(
                "newest entry modified "
                    + newest
                    + ", "
                    + days
                    + " days before this run (more than "
                    + Advisories.STALE.toDays()
                    + ")",
                "source: " + db.source())
            .withFix(
                "Import a current export: download an OSV export (for example https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
                    + " and .../Go/all.zip), then gatehouse advisories update --from FILE; or upgrade Gatehouse for newer built-in data."));
  }

  /**
   * The scopes some active key holds; null when the store cannot be read (then no advisory is taken
   * as blocked by keys).
   */
  static @Nullable Set<Operation> granted(ConfigAudit.KeySource keys, Instant now) {
    try {
      if (!keys.exists()) {
        return null;
      }
      Set<Operation> out = java.util.EnumSet.noneOf(Operation.class);
      for (dev.gatehouse.store.KeyRecord k : keys.keys()) {
        if (k.activeAt(now)) {
          k.scopes()
              .forEach(
                  sc -> {
                    Operation op = Operation.byScope(sc);
                    if (op != null) {
                      out.add(op);
                    }
                  });
        }
      }
      return out;
    } catch (Exception e) {
      return null; // unreadable store: ConfigAudit reports it; no key-based lowering
    }
  }

  /**
   * True when every answer carried Gatehouse's request id (16 hex digits), as only Gatehouse sends.
   */
  private static boolean answeredAsGatehouse(Session s) {
    List<Session.Exchange> answered =
        s.exchanges().stream().filter(x -> x.response() != null).toList();
    return !answered.isEmpty()
        && answered.stream()
            .allMatch(
                x -> {
                  String id =
                      java.util.Objects.requireNonNull(x.response())
                          .header("x-request-id"); // answered ones only
                  return id != null && id.matches("[0-9a-f]{16}");
                });
  }

  /** Where to connect to reach these sockets from this machine: loopback when it is bound. */
  @SuppressWarnings("AddressSelection") // only literal addresses here: never a name lookup
  static InetAddress probeAddress(List<Listener> listeners) {
    for (Listener l : listeners) {
      if (l.address() instanceof java.net.Inet4Address && (l.wildcard() || l.loopback())) {
        return InetAddress.getLoopbackAddress();
      }
    }
    for (Listener l : listeners) {
      if (l.wildcard() || l.loopback()) {
        try {
          return InetAddress.getByName("::1");
        } catch (java.net.UnknownHostException e) {
          throw new IllegalStateException(e); // a literal never needs a lookup
        }
      }
    }
    return listeners.get(0).address(); // bound to one of this machine's own addresses
  }

  private static int upstreamPort(URI upstream) {
    if (upstream.getPort() > 0) {
      return upstream.getPort();
    }
    return "https".equals(upstream.getScheme()) ? 443 : 80;
  }

  /**
   * True when the upstream's host is this machine: loopback, or an address a listener is bound to.
   */
  private static boolean upstreamIsHere(URI upstream, List<Listener> listeners) {
    String host = upstream.getHost().replace("[", "").replace("]", "");
    if (new HostPort(host, 1).isLoopback()) {
      return true;
    }
    for (Listener l : listeners) {
      if (l.address().getHostAddress().equalsIgnoreCase(host)) {
        return true;
      }
    }
    return false;
  }
}
