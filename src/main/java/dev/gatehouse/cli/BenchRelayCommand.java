package dev.gatehouse.cli;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.HostPort;
import dev.gatehouse.gateway.Gateway;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code gatehouse bench-relay}: the gateway as a bare relay, for the benchmark's {@code
 * gatehouse-bare} target only. It measures what the foundation (Vert.x, the listener, the relay)
 * costs without the safeguards.
 *
 * <p>Hidden from help, and no setting of {@code serve} reaches it: every policy stage, connection
 * check, audit record, log line and metric is off, so it refuses any listen address but loopback
 * (checked on the flag before anything loads, and again on the loaded config) and starts no admin
 * or redirect listener.
 */
@Command(
    name = "bench-relay",
    hidden = true,
    mixinStandardHelpOptions = true,
    description = {
      "Benchmark only: relay to the upstream with EVERY safeguard off. Loopback only.",
      "No keys, no limits, no audit log, no metrics. Never use it to serve anyone."
    })
final class BenchRelayCommand implements Callable<Integer> {

  @Mixin ConfigOptions configOptions;

  @Option(
      names = "--listen",
      required = true,
      paramLabel = "HOST:PORT",
      description = "Listen address; loopback only (127.0.0.0/8, ::1, localhost).")
  String listen = "";

  @Option(names = "--upstream", paramLabel = "URL", description = "The LLM server.")
  @Nullable String upstream;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final Map<String, String> env;
  private final Consumer<Main.Running> onServe;

  BenchRelayCommand(Map<String, String> env, Consumer<Main.Running> onServe) {
    this.env = env;
    this.onServe = onServe;
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    HostPort requested = HostPort.parse(listen);
    // A relay with no key check, limit or audit must never be reachable from another machine.
    if (requested == null || !requested.isLoopback()) {
      err.println(
          "gatehouse bench-relay: --listen "
              + listen
              + " refused (expected: a loopback address, 127.0.0.1:PORT, [::1]:PORT or"
              + " localhost:PORT): it relays with every safeguard off");
      return 2;
    }
    GatehouseConfig config =
        configOptions.loadOrReport(env, ConfigOptions.flags(listen, upstream), err);
    if (config == null) {
      return 2;
    }
    if (!config.listen().isLoopback()) { // the flag wins over file and environment; checked anyway
      err.println("gatehouse bench-relay: listen " + config.listen() + " refused (loopback only)");
      return 2;
    }
    if (config.tls().redirectListen() != null) {
      err.println("gatehouse bench-relay: tls.redirect_listen refused (no second listener)");
      return 2;
    }
    err.println(
        "WARNING: gatehouse bench-relay relays with EVERY SAFEGUARD OFF: no API keys, no limits,"
            + " no guard, no audit log, no metrics. It exists for bench/run.sh only.");
    err.flush();
    Context ctx = new Context(config);
    Gateway gateway;
    try {
      gateway = Gateway.startRelayOnly(config, ctx.stores, ctx.apiKeys);
    } catch (Exception e) {
      ctx.close();
      throw e;
    }
    out.println(
        "Gatehouse bench-relay (no safeguards) listening on "
            + (config.tlsEnabled() ? "https" : "http")
            + "://"
            + (config.listen().host().contains(":")
                ? "[" + config.listen().host() + "]"
                : config.listen().host())
            + ":"
            + gateway.port()
            + " -> "
            + config.upstream());
    out.flush();
    HeapSettle.schedule(gateway.vertx()); // the same JVM as serve's, for a like comparison
    onServe.accept(
        () -> {
          gateway.close();
          ctx.close();
        });
    return ServeCommand.KEEP_RUNNING;
  }
}
