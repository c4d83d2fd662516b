package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.abuse.BanExport;
import dev.gatehouse.abuse.ManualBans;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.store.BanRecord;
import java.io.IOException;
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
 * running gateway's next request; the export is the list of indicators of compromise. With an admin
 * token, list, add and remove go through the gateway's admin API, and print alike either way: from
 * the {@link BanExport} JSON shape, which is also what the API answers. The export reads the store
 * (reading changes nothing a gateway needs to see).
 */
@Command(
    name = "bans",
    mixinStandardHelpOptions = true,
    description = {
      "Manage client bans. Changes take effect on a running gateway's next request.",
      "With an admin token (env "
          + AdminClient.TOKEN_ENV
          + " or --admin-token-file), list, add and remove go through its admin API"
          + " (admin.listen); without one, or when that does not answer, through the store."
    },
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

  /** What list, add and remove share, on top of {@link ApiCommand}. */
  abstract static class Base extends ApiCommand {
    Base(Map<String, String> env) {
      super(env);
    }

    ManualBans manual(Context ctx) {
      return new ManualBans(ctx.stores.bans(), ctx.config.bans(), Clock.systemUTC());
    }
  }

  /** A member of the API's answer that must be there. */
  static JsonNode member(JsonNode o, String field) throws IOException {
    JsonNode n = o.get(field);
    if (n == null || n.isNull()) {
      throw new IOException("the admin API answered without \"" + field + "\"");
    }
    return n;
  }

  /** A string member, or null when absent or null. */
  static @Nullable String text(JsonNode o, String field) {
    JsonNode n = o.get(field);
    return n == null || n.isNull() ? null : n.asText();
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
      print(out, BanExport.toJson(rows, now));
      return 0;
    }

    @Override
    int runApi(AdminClient api, PrintWriter out) throws Exception {
      JsonNode bans = member(api.get("/api/v1/bans" + (all ? "?all=true" : "")), "bans");
      if (!bans.isArray()) {
        throw new IOException("the admin API answered \"bans\" that is not a list");
      }
      print(out, (ArrayNode) bans);
      return 0;
    }

    private void print(PrintWriter out, ArrayNode rows) throws Exception {
      if (json) {
        out.println(JSON.writeValueAsString(rows));
        return;
      }
      String fmt = "%-39s  %-6s  %-24s  %5s  %8s  %s%n";
      out.printf(fmt, "IP", "STATUS", "UNTIL", "TIMES", "REQUESTS", "REASON");
      for (JsonNode r : rows) {
        String until = text(r, "banned_until");
        JsonNode reasons = r.path("reasons");
        out.printf(
            fmt,
            text(r, "ip"),
            text(r, "status"),
            until == null ? "removed by hand" : until,
            r.path("times").asInt(),
            r.path("request_count").asLong(),
            reasons.isEmpty() ? "-" : reasons.get(reasons.size() - 1).asText());
      }
    }
  }

  @Command(
      name = "add",
      mixinStandardHelpOptions = true,
      description = "Ban an address now; a running gateway refuses it from its next request on.")
  static final class Add extends Base {
    private static final List<String> NAMES = List.of("--for", "--reason");

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
      BanRecord r = manual(ctx).add(ip, length, reason, NAMES);
      print(out, toJson(r, Instant.now()));
      return 0;
    }

    @Override
    int runApi(AdminClient api, PrintWriter out) throws Exception {
      // the same messages as the store path for a bad address, length or reason
      IpAddress a = ManualBans.address(ip);
      ManualBans.checkLengthAndReason(length, reason, NAMES);
      ObjectNode body = JSON.createObjectNode();
      body.put("ip", a.text());
      if (length != null) {
        body.put("duration", length);
      }
      if (reason != null) {
        body.put("reason", reason);
      }
      print(out, member(api.post("/api/v1/bans", body), "ban"));
      return 0;
    }

    private void print(PrintWriter out, JsonNode ban) throws Exception {
      if (json) {
        out.println(JSON.writeValueAsString(ban));
      } else {
        String until = text(ban, "banned_until");
        out.println(
            "Banned "
                + text(ban, "ip")
                + (until == null ? " until removed" : " until " + until)
                + "; it is refused from its next request on.");
      }
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
      print(out, a);
      return 0;
    }

    @Override
    int runApi(AdminClient api, PrintWriter out) throws Exception {
      IpAddress a = ManualBans.address(ip);
      api.delete("/api/v1/bans/" + AdminClient.segment(a.text()));
      print(out, a);
      return 0;
    }

    private void print(PrintWriter out, IpAddress a) throws Exception {
      if (json) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ip", a.text());
        o.put("removed", true);
        out.println(JSON.writeValueAsString(o));
      } else {
        out.println("Removed the ban on " + a + "; it is served again from its next request on.");
      }
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description = {
        "Export banned addresses as indicators of compromise: first and last seen, reasons,",
        "request count and sample paths. Includes ended bans unless --active."
      })
  static final class Export extends StoreCommand {
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
