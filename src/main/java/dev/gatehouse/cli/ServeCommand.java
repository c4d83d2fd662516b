package dev.gatehouse.cli;

import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminServer;
import dev.gatehouse.admin.Role;
import dev.gatehouse.admin.auth.AdminCredentials;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.gateway.Gateway;
import dev.gatehouse.gateway.Reloader;
import dev.gatehouse.keys.KeyService;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gatehouse serve}: run the gateway in the foreground until interrupted. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Run the gateway in front of an LLM server.",
      "Settings come from gatehouse.yaml, then GATEHOUSE_* environment variables, then these flags.",
      "On first start with no keys, one ordinary key is created and printed once;",
      "with the admin listener on and no admin credential, one admin credential likewise."
    })
final class ServeCommand implements Callable<Integer> {

  /** Returned when the server is up and main must not exit. */
  static final int KEEP_RUNNING = -1;

  @Mixin ConfigOptions configOptions;

  @Option(
      names = "--listen",
      paramLabel = "HOST:PORT",
      description = "Listen address (default 127.0.0.1:11435; env GATEHOUSE_LISTEN).")
  @Nullable String listen;

  @Option(
      names = "--upstream",
      paramLabel = "URL",
      description = "The LLM server (default http://127.0.0.1:11434; env GATEHOUSE_UPSTREAM).")
  @Nullable String upstream;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final Map<String, String> env;
  private final Consumer<Main.Running> onServe;

  ServeCommand(Map<String, String> env, Consumer<Main.Running> onServe) {
    this.env = env;
    this.onServe = onServe;
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Map<String, String> flags = ConfigOptions.flags(listen, upstream);
    GatehouseConfig config = configOptions.loadOrReport(env, flags, spec.commandLine().getErr());
    if (config == null) {
      return 2;
    }
    Context ctx = new Context(config);
    Gateway gateway;
    AdminServer admin = null;
    try {
      KeyService.Created first = null;
      if (config.authEnabled() && ctx.keys.list().isEmpty()) {
        first = ctx.keys.create("default", null, List.of(), List.of());
      }
      AdminCredentials.Created firstAdmin = null;
      gateway = Gateway.start(config, ctx.stores, ctx.apiKeys);
      // SIGHUP and POST /api/v1/reload reload the config from these same sources
      Reloader reloader = new Reloader(gateway, () -> configOptions.load(env, flags));
      Hangup.onSignal(reloader::callInBackground);
      if (config.admin().listen() != null) {
        try {
          Gateway running = gateway;
          admin =
              AdminServer.start(
                  new AdminContext(
                      gateway.vertx(),
                      running::config,
                      ctx.stores,
                      ctx.keys,
                      running,
                      ctx.admins,
                      reloader,
                      env,
                      configOptions.source(env).file()));
        } catch (Exception e) {
          gateway.close();
          throw new IllegalStateException(
              "admin listener " + config.admin().listen() + ": " + e.getMessage(), e);
        }
        // The admin listener is never open: the first start creates its credential, as it does
        // the first API key, and keeps only its hash. Created once the listener is up, so that a
        // listener that failed to start never leaves behind a credential nobody was shown.
        try {
          if (!ctx.admins.hasActiveAdmin()) {
            firstAdmin = ctx.admins.create("admin", Role.ADMIN);
          }
        } catch (RuntimeException e) {
          admin.close();
          gateway.close();
          throw e;
        }
      }
      String scheme = config.tlsEnabled() ? "https" : "http";
      String base = scheme + "://" + displayHost(config) + ":" + gateway.port();
      if (first != null) {
        printFirstKey(out, first, base, config);
      }
      if (!config.authEnabled()) {
        out.println(
            "WARNING: auth.enabled is false: every local process can use the model server through Gatehouse.");
      }
      out.println(
          "Gatehouse listening on "
              + base
              + " -> "
              + config.upstream()
              + (gateway.redirectPort() > 0
                  ? " (HTTP redirect on port " + gateway.redirectPort() + ")"
                  : ""));
      if (admin != null) {
        String adminBase =
            "http://"
                + displayHost(
                    Objects.requireNonNull(
                            config.admin().listen(),
                            "the admin listener runs only when admin.listen is set")
                        .host())
                + ":"
                + admin.port();
        if (firstAdmin != null) {
          printFirstAdmin(out, firstAdmin, adminBase);
        }
        out.println("Dashboard on " + adminBase + "/ (admin listener)");
        out.println("Metrics on " + adminBase + "/metrics (admin listener)");
      }
      out.flush();
      // the listeners are up: the class-data archive this serve writes as it exits is worth keeping
      ArchiveStamp.confirm(env.get(ArchiveStamp.ENV));
      HeapSettle.schedule(gateway.vertx());
    } catch (Exception e) {
      ctx.close();
      throw e;
    }
    AdminServer adminServer = admin;
    // The periodic posture check (posture.interval): doctor's exposure checks, each run in a child
    // JVM started from a worker thread, each new finding at or above high raised once through the
    // alert rules.
    dev.gatehouse.doctor.PostureMonitor posture =
        !config.posture().enabled()
            ? null
            : new dev.gatehouse.doctor.PostureMonitor(
                    PostureChild.forServe(env, configOptions.config, listen, upstream),
                    config.posture().interval(),
                    config.posture().runTimeout(),
                    f ->
                        gateway
                            .alerts()
                            .posture(f.id(), f.severity().label(), f.subject(), f.title()),
                    java.time.Clock.systemUTC())
                .start();
    onServe.accept(new Serving(gateway, adminServer, posture, ctx));
    return KEEP_RUNNING;
  }

  /**
   * The running server: {@link #drain} on SIGTERM, {@link #close} from the shutdown hook after it
   * (or alone, without a drain); each part is closed once.
   */
  private static final class Serving implements Main.Running {
    private final Gateway gateway;
    private final @Nullable AdminServer admin;
    private final dev.gatehouse.doctor.@Nullable PostureMonitor posture;
    private final Context ctx;
    private final java.util.concurrent.atomic.AtomicBoolean closed =
        new java.util.concurrent.atomic.AtomicBoolean();

    Serving(
        Gateway gateway,
        @Nullable AdminServer admin,
        dev.gatehouse.doctor.@Nullable PostureMonitor posture,
        Context ctx) {
      this.gateway = gateway;
      this.admin = admin;
      this.posture = posture;
      this.ctx = ctx;
    }

    @Override
    public void drain() {
      // shutdown.grace is restart-only: the value started with is the one in force
      gateway.drain(gateway.config().balancing().shutdownGrace());
      close(); // the admin listener stays up through the drain, for its metrics and API
    }

    @Override
    public synchronized void close() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      if (posture != null) {
        posture.close();
      }
      if (admin != null) {
        admin.close();
      }
      gateway.close(); // writes the audit records still queued and flushes usage
      ctx.close();
    }
  }

  private static String displayHost(GatehouseConfig c) {
    return displayHost(c.listen().host());
  }

  private static String displayHost(String h) {
    if (h.equals("0.0.0.0") || h.equals("::")) {
      return "127.0.0.1";
    }
    return h.contains(":") ? "[" + h + "]" : h;
  }

  private static void printFirstAdmin(
      PrintWriter out, AdminCredentials.Created first, String adminBase) {
    out.println();
    out.println(
        "First start: created admin credential "
            + first.record().id()
            + " (role admin) for the admin listener and dashboard.");
    out.println("It is shown this once; Gatehouse keeps only a hash of it:");
    out.println();
    out.println("    " + first.token());
    out.println();
    out.println("Try it:");
    out.println(
        "    curl -H 'Authorization: Bearer " + first.token() + "' " + adminBase + "/api/v1/me");
    out.println("Dashboard:        " + adminBase + "/ (log in with the credential above)");
    out.println("More credentials: gatehouse admins create --name NAME --role viewer");
    out.println();
  }

  private static void printFirstKey(
      PrintWriter out, KeyService.Created first, String base, GatehouseConfig c) {
    String scopes =
        Operation.DEFAULT_SCOPES.stream().map(o -> o.scope).collect(Collectors.joining(", "));
    String insecure = c.tlsEnabled() ? "--cacert " + c.tls().cert() + " " : "";
    out.println();
    out.println(
        "First start: created API key " + first.record().id() + " (scopes: " + scopes + ").");
    out.println("It is shown this once; Gatehouse keeps only a hash of it:");
    out.println();
    out.println("    " + first.key());
    out.println();
    out.println("Try it:");
    out.println(
        "    curl "
            + insecure
            + "-H 'Authorization: Bearer "
            + first.key()
            + "' "
            + base
            + "/api/tags");
    out.println("OpenAI base URL:  " + base + "/v1");
    out.println("Ollama host:      " + base);
    out.println("More keys: gatehouse keys create --name NAME");
    out.println();
  }
}
