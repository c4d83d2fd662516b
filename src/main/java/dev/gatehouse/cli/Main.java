package dev.gatehouse.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code gatehouse} command line. */
@Command(
    name = "gatehouse",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "A secure front door for self-hosted LLM servers (Ollama and OpenAI-compatible).",
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:invalid usage or configuration"})
public final class Main implements Runnable {

  /**
   * The subcommands, in the order {@code --help} lists them. Added in {@link #run} rather than
   * named in {@code @Command}: picocli builds the model of every command it is given, reflecting
   * over each option and instantiating each command and its static state (JSON mappers, doctor's
   * rules), which took about half a second of every {@code serve} start for commands it never runs.
   * A first argument that names one of them gets a tree of that one alone; anything else (options,
   * help, a typo picocli should suggest a fix for) gets all of them.
   */
  static final List<Class<?>> SUBCOMMANDS =
      List.of(
          ServeCommand.class,
          KeysCommand.class,
          AdminsCommand.class,
          UsageCommand.class,
          BansCommand.class,
          TlsCommand.class,
          DoctorCommand.class,
          ScanCommand.class,
          ModelsCommand.class,
          AuditCommand.class,
          AdvisoriesCommand.class,
          GuardCommand.class,
          BenchRelayCommand.class, // hidden: the benchmark's bare relay, loopback only
          PostureRunCommand.class); // hidden: one run of serve's posture check, in its own JVM

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    dev.gatehouse.listen.TlsProfile.refuseClientRenegotiation(); // before any TLS code loads
    // Netty's buffer allocator defines JFR events, and the first buffer it allocates (on the first
    // request) would start JFR's event machinery: about a quarter of a second on that request, and
    // memory held after it, for events no one records unless a flight recording is on. An
    // operator's own -Dio.netty.jfr.enabled wins.
    if (System.getProperty("io.netty.jfr.enabled") == null) {
      System.setProperty("io.netty.jfr.enabled", "false");
    }
    Logging.configure();
    int code =
        run(
            args,
            System.getenv(),
            new PrintWriter(System.out, true, System.out.charset()),
            new PrintWriter(System.err, true, System.err.charset()));
    if (code != ServeCommand.KEEP_RUNNING) {
      System.exit(code);
    }
  }

  /**
   * Runs the CLI with an explicit environment and output streams (what tests call). Returns the
   * exit status, or {@link ServeCommand#KEEP_RUNNING} when a server was started.
   */
  public static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
    return run(
        args,
        env,
        out,
        err,
        running -> {
          Runtime.getRuntime().addShutdownHook(new Thread(running::close, "gatehouse-shutdown"));
          Termination.install(running); // SIGTERM, SIGINT: drain, then exit 0
        });
  }

  /**
   * As {@link #run(String[], Map, PrintWriter, PrintWriter)}, but hands a started server to {@code
   * onServe} instead of stopping it at JVM exit; tests close it themselves.
   */
  public static int run(
      String[] args,
      Map<String, String> env,
      PrintWriter out,
      PrintWriter err,
      java.util.function.Consumer<Running> onServe) {
    CommandLine cl = new CommandLine(new Main(), new Factory(env, onServe));
    for (Class<?> sub : subcommandsFor(args)) {
      cl.addSubcommand(sub);
    }
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          if (ex instanceof UsageError u) {
            commandLine.getErr().println("gatehouse: " + u.getMessage());
            return 2;
          }
          commandLine.getErr().println("gatehouse: " + ex.getMessage());
          return 1;
        });
    int code = cl.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  /** The subcommands a command line needs: the one its first argument names, or all. */
  static List<Class<?>> subcommandsFor(String[] args) {
    if (args.length > 0) {
      for (Class<?> sub : SUBCOMMANDS) {
        Command c = sub.getAnnotation(Command.class);
        if (c != null && c.name().equals(args[0])) {
          return List.of(sub);
        }
      }
    }
    return SUBCOMMANDS;
  }

  /** Gives every command the environment it runs in, instead of reading globals. */
  record Factory(Map<String, String> env, java.util.function.Consumer<Running> onServe)
      implements CommandLine.IFactory {
    @Override
    public <K> K create(Class<K> cls) throws Exception {
      if (cls == ServeCommand.class) {
        return cls.cast(new ServeCommand(env, onServe));
      }
      if (cls == BenchRelayCommand.class) {
        return cls.cast(new BenchRelayCommand(env, onServe));
      }
      if (cls == UsageCommand.class) {
        return cls.cast(new UsageCommand(env));
      }
      if (cls == KeysCommand.class
          || cls == KeysCommand.Create.class
          || cls == KeysCommand.ListKeys.class
          || cls == KeysCommand.Revoke.class
          || cls == KeysCommand.Rotate.class
          || cls == AdminsCommand.class
          || cls == AdminsCommand.Create.class
          || cls == AdminsCommand.ListAdmins.class
          || cls == AdminsCommand.Revoke.class
          || cls == AdminsCommand.ResetTotp.class
          || cls == BansCommand.class
          || cls == BansCommand.ListBans.class
          || cls == BansCommand.Add.class
          || cls == BansCommand.Remove.class
          || cls == BansCommand.Export.class
          || cls == TlsCommand.SelfSignedCommand.class
          || cls == DoctorCommand.class
          || cls == PostureRunCommand.class
          || cls == ScanCommand.class
          || cls == AdvisoriesCommand.Update.class
          || cls == AdvisoriesCommand.ListAdvisories.class
          || cls == ModelsCommand.Verify.class
          || cls == AuditCommand.Verify.class
          || cls == AuditReadCommands.Tail.class
          || cls == AuditReadCommands.Query.class
          || cls == AuditReadCommands.Summary.class) {
        return cls.getDeclaredConstructor(Map.class).newInstance(env);
      }
      return CommandLine.defaultFactory().create(cls);
    }
  }

  /** A started server; closing it stops the server and releases its store. */
  public interface Running extends AutoCloseable {
    /** Stops at once; a second call does nothing. */
    @Override
    void close();

    /**
     * Stops gracefully, then as {@link #close} does: what SIGTERM runs. A server without a drain
     * just closes.
     */
    default void drain() {
      close();
    }
  }

  /** A mistake in how the command was used or configured: exit status 2. */
  static final class UsageError extends RuntimeException {
    UsageError(@Nullable String message) {
      super(message);
    }
  }

  /** Gatehouse's version from the jar manifest, for reports. */
  static String toolVersion() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "development build" : v;
  }

  /** Reports the version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"gatehouse " + toolVersion()};
    }
  }
}
