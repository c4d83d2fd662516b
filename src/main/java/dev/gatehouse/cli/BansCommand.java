package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.abuse.BanPolicy;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.config.Values;
import dev.gatehouse.store.BanRecord;
import java.io.PrintWriter;
import java.time.Duration;
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

  /** The CSV columns of {@code bans export --format csv}, in order. */
  static final List<String> CSV_COLUMNS =
      List.of(
          "ip",
          "status",
          "first_seen",
          "last_seen",
          "request_count",
          "reasons",
          "sample_paths",
          "banned_at",
          "banned_until",
          "times",
          "source");

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

    /** The canonical form of a single address given on the command line. */
    static IpAddress address(String text) {
      IpAddress a = IpAddress.parse(text == null ? null : text.trim());
      if (a == null) {
        throw new IllegalArgumentException(
            "IP: " + text + " (expected: one IPv4 or IPv6 address; ranges belong in network.deny)");
      }
      return a;
    }
  }

  static String status(BanRecord r, Instant now) {
    return r.activeAt(now) ? "banned" : "ended";
  }

  static ObjectNode toJson(BanRecord r, Instant now) {
    ObjectNode o = JSON.createObjectNode();
    o.put("ip", r.ip());
    o.put("status", status(r, now));
    o.put("first_seen", r.firstSeen().toString());
    o.put("last_seen", r.lastSeen().toString());
    o.put("request_count", r.requests());
    ArrayNode reasons = o.putArray("reasons");
    r.reasons().forEach(reasons::add);
    ArrayNode paths = o.putArray("sample_paths");
    r.samplePaths().forEach(paths::add);
    o.put("banned_at", r.bannedAt().toString());
    if (r.bannedUntil() == null) {
      o.putNull("banned_until");
    } else {
      o.put("banned_until", r.bannedUntil().toString());
    }
    o.put("times", r.times());
    o.put("source", r.source());
    return o;
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
        ArrayNode a = JSON.createArrayNode();
        rows.forEach(r -> a.add(toJson(r, now)));
        out.println(JSON.writeValueAsString(a));
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
      IpAddress a = address(ip);
      if (ctx.config.bans().never().contains(a)) {
        throw new IllegalArgumentException(
            "IP: " + a + " (expected: an address outside bans.never, which is never banned)");
      }
      Duration d = null;
      if (length != null) {
        d = Values.positiveDuration(length);
        if (d == null) {
          throw new IllegalArgumentException(
              "--for: " + length + " (expected: a duration above zero such as 1h or 7d)");
        }
      }
      if (reason != null
          && (reason.isBlank() || reason.length() > 200 || !reason.matches("[\\x20-\\x7e]+"))) {
        throw new IllegalArgumentException(
            "--reason: " + reason + " (expected: 1-200 printable ASCII characters)");
      }
      String why = "manual" + (reason == null ? "" : ": " + reason.strip());
      Duration length = d;
      BanRecord r =
          ctx.stores
              .bans()
              .updateBan(
                  a.text(),
                  old -> {
                    Instant now = Instant.now();
                    int times = BanPolicy.nextTimes(old, now, ctx.config.bans().maxDuration());
                    // A manual ban replaces the end of one in force: the operator's word is the
                    // latest.
                    BanRecord base =
                        old == null
                            ? null
                            : new BanRecord(
                                old.ip(),
                                old.bannedAt(),
                                now,
                                old.times(),
                                old.source(),
                                old.reasons(),
                                old.firstSeen(),
                                old.lastSeen(),
                                old.requests(),
                                old.samplePaths());
                    return BanPolicy.apply(
                        base,
                        a.text(),
                        now,
                        length == null ? null : now.plus(length),
                        times,
                        "manual",
                        why,
                        BanPolicy.Evidence.none(now));
                  });
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
      IpAddress a = address(ip);
      if (!ctx.stores.bans().removeBan(a.text())) {
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
        ArrayNode a = JSON.createArrayNode();
        rows.forEach(r -> a.add(toJson(r, now)));
        out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(a));
        return 0;
      }
      out.print(String.join(",", CSV_COLUMNS) + "\r\n");
      for (BanRecord r : rows) {
        List<String> cells =
            List.of(
                r.ip(),
                status(r, now),
                r.firstSeen().toString(),
                r.lastSeen().toString(),
                Long.toString(r.requests()),
                String.join(";", r.reasons().stream().map(s -> s.replace(';', ',')).toList()),
                String.join(";", r.samplePaths()),
                r.bannedAt().toString(),
                r.bannedUntil() == null ? "" : r.bannedUntil().toString(),
                Integer.toString(r.times()),
                r.source());
        out.print(String.join(",", cells.stream().map(BansCommand::csv).toList()) + "\r\n");
      }
      return 0;
    }
  }

  /**
   * One RFC 4180 cell. Paths and reasons come from attackers, so a cell that a spreadsheet would
   * run as a formula (= + - @ and control characters first) is prefixed with an apostrophe.
   */
  static String csv(String cell) {
    String c = cell;
    if (!c.isEmpty() && "=+-@\t\r".indexOf(c.charAt(0)) >= 0) {
      c = "'" + c;
    }
    if (c.contains(",") || c.contains("\"") || c.contains("\n") || c.contains("\r")) {
      c = "\"" + c.replace("\"", "\"\"") + "\"";
    }
    return c;
  }
}
