package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.Values;
import dev.gatehouse.store.UsageStore;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gatehouse usage}: tokens and requests per key, model and day. */
@Command(
    name = "usage",
    mixinStandardHelpOptions = true,
    description =
        "Report token usage per key, model and UTC day, as counted from the upstream's own figures.")
final class UsageCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Mixin ConfigOptions configOptions;

  @Option(names = "--key", paramLabel = "ID", description = "Only this key.")
  @Nullable String key;

  @Option(
      names = "--since",
      paramLabel = "DAYS|DATE",
      defaultValue = "7d",
      description =
          "A duration back from today (7d) or a date (2026-11-01). Default: ${DEFAULT-VALUE}.")
  String since;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final Map<String, String> env;

  UsageCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    String from = sinceDay(since);
    Context ctx;
    try {
      ctx = new Context(configOptions.load(env, Map.of()));
    } catch (ConfigException e) {
      spec.commandLine().getErr().print(e.report());
      return 2;
    }
    try (ctx) {
      List<UsageStore.UsageRow> rows = ctx.stores.usage().usageSince(from, key);
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        ArrayNode a = JSON.createArrayNode();
        for (UsageStore.UsageRow r : rows) {
          ObjectNode o = a.addObject();
          o.put("key_id", r.keyId());
          o.put("day", r.day());
          o.put("model", r.model());
          o.put("requests", r.requests());
          o.put("tokens_in", r.tokensIn());
          o.put("tokens_out", r.tokensOut());
        }
        out.println(JSON.writeValueAsString(a));
        return 0;
      }
      String fmt = "%-10s  %-12s  %-28s  %9s  %12s  %12s%n";
      out.printf(fmt, "DAY", "KEY", "MODEL", "REQUESTS", "TOKENS_IN", "TOKENS_OUT");
      long req = 0;
      long in = 0;
      long outTokens = 0;
      for (UsageStore.UsageRow r : rows) {
        out.printf(
            fmt,
            r.day(),
            r.keyId(),
            r.model().isEmpty() ? "-" : r.model(),
            r.requests(),
            r.tokensIn(),
            r.tokensOut());
        req += r.requests();
        in += r.tokensIn();
        outTokens += r.tokensOut();
      }
      out.printf(fmt, "total", "", "", req, in, outTokens);
      return 0;
    }
  }

  private static String sinceDay(String text) {
    try {
      return LocalDate.parse(text).toString();
    } catch (DateTimeParseException e) {
      Duration d = Values.duration(text);
      if (d == null) {
        throw new Main.UsageError(
            "--since: " + text + " (expected: a duration such as 7d or a date such as 2026-11-01)");
      }
      return LocalDate.now(ZoneOffset.UTC).minusDays(Math.max(0, d.toDays() - 1)).toString();
    }
  }
}
