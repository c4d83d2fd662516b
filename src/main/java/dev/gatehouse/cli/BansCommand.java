package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.abuse.BanExport;
import dev.gatehouse.abuse.ManualBans;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.store.BanRecord;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gatehouse bans}: list, add, remove and export client bans. Changes take effect on a
 * running gateway's next request; the export is the list of indicators of compromise.
 */
@Command(
    name = "bans",
    mixinStandardHelpOptions = true,
    description = "Manage client bans. Changes take effect on a running gateway's next request.",
    subcommands = {
      BansCommand.ListBans.class,
      BansCommand.Add.class,
      BansCommand.Remove.class,
      BansCommand.Export.class
    })
final class BansCommand implements Runnable {

  private static final ObjectMapper JSON = new ObjectMapper();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  BansCommand(Map<String, String> env) {}

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** What every subcommand here shares, on top of {@link StoreCommand}. */
  abstract static class Base extends StoreCommand {
    Base(Map<String, String> env) {
      super(env);
    }

    ManualBans manual(Context ctx) {
      return new ManualBans(ctx.stores.bans(), ctx.config.bans(), Clock.systemUTC());
    }
  }

  static String status(BanRecord r, Instant now) {
    return BanExport.status(r, now);
  }

  static ObjectNode toJson(BanRecord r, Instant now) {
    return BanExport.toJson(r, now);
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List bans in force (with --all, ended ones too).")
  static final class ListBans extends Base {
    @Option(names = "--all", description = "Include bans that have ended.")
    boolean all;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    ListBans(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) throws Exception {
      Instant now = Instant.now();
      List<BanRecord> rows =
          ctx.stores.bans().listBans().stream().filter(r -> all || r.activeAt(now)).toList();
      if (json) {
        out.println(JSON.writeValueAsString(BanExport.toJson(rows, now)));
        return 0;
      }
      String fmt = "%-39s  %-6s  %-24s  %5s  %8s  %s%n";
      out.printf(fmt, "IP", "STATUS", "UNTIL", "TIMES", "REQUESTS", "REASON");
      for (BanRecord r : rows) {
        out.printf(
            fmt,
            r.ip(),
            status(r, now),
            r.bannedUntil() == null ? "removed by hand" : r.bannedUntil().toString(),
            r.times(),
            r.requests(),
            r.reasons().isEmpty() ? "-" : r.reasons().get(r.reasons().size() - 1));
      }
      return 0;
    }
  }

  @Command(
      name = "add",
      mixinStandardHelpOptions = true,
      description = "Ban an address now; a running gateway refuses it from its next request on.")
  static final class Add extends Base {
    @Parameters(paramLabel = "IP", description = "The IPv4 or IPv6 address to ban.")
    String ip;

    @Option(
        names = "--for",
        paramLabel = "DURATION",
        description = "How long, such as 1h or 7d. Default: until removed.")
    @Nullable String length;

    @Option(
        names = "--reason",
        paramLabel = "TEXT",
        description = "Why, for the list and the export.")
    @Nullable String reason;

    @Option(names = "--json", description = "Print the ban as JSON.")
    boolean json;

    Add(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) throws Exception {
      BanRecord r = manual(ctx).add(ip, length, reason, List.of("--for", "--reason"));
      if (json) {
        out.println(JSON.writeValueAsString(toJson(r, Instant.now())));
      } else {
        out.println(
            "Banned "
                + r.ip()
                + (r.bannedUntil() == null ? " until removed" : " until " + r.bannedUntil())
                + "; it is refused from its next request on.");
      }
      return 0;
    }
  }

  @Command(
      name = "remove",
      mixinStandardHelpOptions = true,
      description =
          "Lift a ban and forget the address's history, so its next ban starts short again.")
  static final class Remove extends Base {
    @Parameters(paramLabel = "IP", description = "The banned address.")
    String ip;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    Remove(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) throws Exception {
      IpAddress a = ManualBans.address(ip);
      if (!manual(ctx).remove(ip)) {
        throw new IllegalArgumentException(
            "IP: " + a + " (expected: a banned address; see bans list --all)");
      }
      if (json) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ip", a.text());
        o.put("removed", true);
        out.println(JSON.writeValueAsString(o));
      } else {
        out.println("Removed the ban on " + a + "; it is served again from its next request on.");
      }
      return 0;
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description = {
        "Export banned addresses as indicators of compromise: first and last seen, reasons,",
        "request count and sample paths. Includes ended bans unless --active."
      })
  static final class Export extends Base {
    @Option(
        names = "--format",
        required = true,
        paramLabel = "json|csv",
        description = "Output format: json or csv.")
    String format;

    @Option(names = "--active", description = "Only bans in force.")
    boolean active;

    Export(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) throws Exception {
      if (!format.equals("json") && !format.equals("csv")) {
        throw new IllegalArgumentException("--format: " + format + " (expected: json or csv)");
      }
      Instant now = Instant.now();
      List<BanRecord> rows =
          ctx.stores.bans().listBans().stream().filter(r -> !active || r.activeAt(now)).toList();
      if (format.equals("json")) {
        out.println(
            JSON.writerWithDefaultPrettyPrinter().writeValueAsString(BanExport.toJson(rows, now)));
        return 0;
      }
      out.print(BanExport.csv(rows, now));
      return 0;
    }
  }
}
