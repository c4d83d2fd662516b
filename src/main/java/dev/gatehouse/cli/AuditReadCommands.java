package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.audit.AuditReader;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.Stores;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The read side of {@code gatehouse audit}: {@code tail}, {@code query} and {@code summary}. The
 * commands parse options and print; reading the files is {@link AuditReader}'s, and queries go to
 * the database copy through {@link AuditStore}.
 */
final class AuditReadCommands {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One row of the text output, without its line end. */
  private static final String TEXT_ROW = "%-23s  %-16s  %-15s  %-12s  %3s  %-24s  %-6s %-24s  %s";

  private static final String TEXT_FORMAT = TEXT_ROW + "%n";

  private AuditReadCommands() {}

  /** A bound for --since/--until: a duration back from now (1h, 7d), a date, or a UTC date-time. */
  static @Nullable String bound(String option, @Nullable String text) {
    if (text == null) {
      return null;
    }
    String bound = AuditReader.timeBound(text, Instant.now());
    if (bound == null) {
      throw new Main.UsageError(
          option
              + ": "
              + text
              + " (expected: a duration back from now such as 1h or 7d, a date such as 2026-11-01, or a UTC time such as 2026-11-01T10:00)");
    }
    return bound;
  }

  static void printHeader(PrintWriter out) {
    out.printf(
        TEXT_FORMAT, "TIME", "REQUEST", "IP", "KEY", "ST", "REASON", "METHOD", "PATH", "MODEL");
  }

  static void printText(PrintWriter out, String line) throws IOException {
    JsonNode n = JSON.readTree(line);
    out.print(
        String.format(
            TEXT_ROW,
            n.path("time").asText(),
            n.path("request_id").asText(),
            n.path("ip").asText(),
            orDash(n.path("key_id")),
            n.path("status").asText(),
            n.path("reason").asText(),
            n.path("method").asText(),
            orDash(n.path("path")),
            orDash(n.path("model"))));
    JsonNode detail = n.path("detail");
    if (detail.isTextual()) {
      // a refusal's detail after the last column. As written it has no control characters; a line
      // edited by hand might (terminal escapes)
      out.print(
          "  detail=\"" + detail.asText().replace('"', '\'').replaceAll("\\p{Cntrl}", " ") + "\"");
    }
    out.println();
  }

  private static String orDash(JsonNode n) {
    return n.isNull() || n.isMissingNode() ? "-" : n.asText();
  }

  private static @Nullable GatehouseConfig load(
      ConfigOptions options, Map<String, String> env, CommandLine.Model.CommandSpec spec) {
    try {
      return options.load(env, Map.of());
    } catch (ConfigException e) {
      spec.commandLine().getErr().print(e.report());
      return null;
    }
  }

  /** {@code gatehouse audit tail [-n N] [-f]}: the newest records of the log files. */
  @Command(
      name = "tail",
      mixinStandardHelpOptions = true,
      description =
          "Print the newest audit records from audit.jsonl (and the newest sealed segments, if it holds fewer); "
              + "with -f, keep printing new ones as they are written, across sealing.")
  static final class Tail implements Callable<Integer> {

    @Mixin ConfigOptions configOptions;

    @Option(
        names = "-n",
        paramLabel = "N",
        defaultValue = "20",
        description = "How many records. Default: ${DEFAULT-VALUE}.")
    int lines;

    @Option(
        names = {"-f", "--follow"},
        description = "Keep printing records as they are written (until interrupted).")
    boolean follow;

    @Option(names = "--json", description = "Print the records as written (JSON Lines).")
    boolean json;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;

    Tail(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public Integer call() throws Exception {
      GatehouseConfig config = load(configOptions, env, spec);
      if (config == null) {
        return 2;
      }
      Path file = config.dataDir().resolve(AuditWriter.FILE);
      PrintWriter out = spec.commandLine().getOut();
      AuditReader opened;
      try {
        // while a seal has renamed audit.jsonl and not yet made the next one, the reader waits
        opened = AuditReader.open(config.dataDir());
      } catch (java.io.FileNotFoundException e) {
        if (Files.exists(file)) {
          throw e; // there, but unreadable: the error says why
        }
        spec.commandLine().getErr().println("audit log not found: " + file);
        return 2;
      }
      if (!json) {
        printHeader(out);
      }
      try (AuditReader reader = opened) {
        for (String l : reader.newest(Math.max(0, lines))) {
          print(out, l);
        }
        out.flush();
        if (!follow) {
          return 0;
        }
        reader.follow();
        while (!Thread.currentThread().isInterrupted()) {
          for (String l : reader.poll()) {
            print(out, l);
          }
          out.flush();
          try {
            Thread.sleep(250);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return 0;
      }
    }

    private void print(PrintWriter out, String line) throws IOException {
      if (line.isEmpty()) {
        return;
      }
      if (json) {
        out.println(line);
      } else {
        printText(out, line);
      }
    }
  }

  /** {@code gatehouse audit query}: records from the indexed table. */
  @Command(
      name = "query",
      mixinStandardHelpOptions = true,
      description =
          "Find audit records by key, address, status, reason and time (newest first), from the database copy.")
  static final class Query implements Callable<Integer> {

    @Mixin ConfigOptions configOptions;

    @Option(names = "--key", paramLabel = "ID", description = "Only this key id.")
    @Nullable String key;

    @Option(names = "--ip", paramLabel = "ADDRESS", description = "Only this client address.")
    @Nullable String ip;

    @Option(names = "--status", paramLabel = "CODE", description = "Only this HTTP status.")
    @Nullable Integer status;

    @Option(
        names = "--reason",
        paramLabel = "CODE",
        description = "Only this reason code (ok, auth.key_invalid, ...).")
    @Nullable String reason;

    @Option(
        names = "--since",
        paramLabel = "WHEN",
        description = "From this time: 1h or 7d back from now, a date, or a UTC time.")
    @Nullable String since;

    @Option(
        names = "--until",
        paramLabel = "WHEN",
        description = "Before this time (same forms as --since).")
    @Nullable String until;

    @Option(
        names = "--limit",
        paramLabel = "N",
        defaultValue = "100",
        description = "At most this many records. Default: ${DEFAULT-VALUE}.")
    int limit;

    @Option(names = "--json", description = "Print the records as written (JSON Lines).")
    boolean json;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;

    Query(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public Integer call() throws Exception {
      if (limit < 1) {
        throw new Main.UsageError("--limit: " + limit + " (expected: > 0)");
      }
      AuditStore.AuditQuery q =
          new AuditStore.AuditQuery(
              key, ip, status, reason, bound("--since", since), bound("--until", until), limit);
      GatehouseConfig config = load(configOptions, env, spec);
      if (config == null) {
        return 2;
      }
      PrintWriter out = spec.commandLine().getOut();
      try (Stores stores = Stores.open(config.store(), config.instance().id(), config.dataDir())) {
        List<AuditStore.AuditRow> rows = stores.audit().queryAudit(q);
        if (!json) {
          printHeader(out);
        }
        for (AuditStore.AuditRow r : rows) {
          if (json) {
            out.println(r.line());
          } else {
            printText(out, r.line());
          }
        }
      }
      return 0;
    }
  }

  /** {@code gatehouse audit summary}: requests, refusals and tokens per day, key and model. */
  @Command(
      name = "summary",
      mixinStandardHelpOptions = true,
      description =
          "Requests, refusals and tokens per UTC day, key and model, from the audit log's database copy.")
  static final class Summary implements Callable<Integer> {

    @Mixin ConfigOptions configOptions;

    @Option(
        names = "--since",
        paramLabel = "WHEN",
        defaultValue = "7d",
        description =
            "From this time: 1h or 7d back from now, a date, or a UTC time. Default: ${DEFAULT-VALUE}.")
    String since;

    @Option(
        names = "--until",
        paramLabel = "WHEN",
        description = "Before this time (same forms as --since).")
    @Nullable String until;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;

    Summary(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public Integer call() throws Exception {
      String from = bound("--since", since);
      String to = bound("--until", until);
      GatehouseConfig config = load(configOptions, env, spec);
      if (config == null) {
        return 2;
      }
      PrintWriter out = spec.commandLine().getOut();
      try (Stores stores = Stores.open(config.store(), config.instance().id(), config.dataDir())) {
        List<AuditStore.AuditSummary> rows = stores.audit().summarizeAudit(from, to);
        if (json) {
          ArrayNode a = JSON.createArrayNode();
          for (AuditStore.AuditSummary s : rows) {
            ObjectNode o = a.addObject();
            o.put("day", s.day());
            o.put("key_id", s.keyId());
            o.put("model", s.model());
            o.put("requests", s.requests());
            o.put("refused", s.refused());
            o.put("tokens_in", s.tokensIn());
            o.put("tokens_out", s.tokensOut());
          }
          out.println(JSON.writeValueAsString(a));
          return 0;
        }
        String fmt = "%-10s  %-12s  %-28s  %9s  %8s  %12s  %12s%n";
        out.printf(fmt, "DAY", "KEY", "MODEL", "REQUESTS", "REFUSED", "TOKENS_IN", "TOKENS_OUT");
        for (AuditStore.AuditSummary s : rows) {
          out.printf(
              fmt,
              s.day(),
              s.keyId(),
              s.model(),
              s.requests(),
              s.refused(),
              s.tokensIn(),
              s.tokensOut());
        }
      }
      return 0;
    }
  }
}
