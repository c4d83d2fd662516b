package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.audit.AuditSegments;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.Values;
import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.Stores;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The read side of {@code gatehouse audit}: {@code tail}, {@code query} and {@code summary}. */
final class AuditReadCommands {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final Pattern DATE_TIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2}(T[0-9:.]+Z?)?");
  private static final String TEXT_FORMAT = "%-23s  %-16s  %-15s  %-12s  %3s  %-24s  %-6s %-24s  %s%n";

  private AuditReadCommands() {}

  /** A bound for --since/--until: a duration back from now (1h, 7d), a date, or a UTC date-time. */
  static String bound(String option, String text) {
    if (text == null) {
      return null;
    }
    if (DATE_TIME.matcher(text).matches()) {
      return text.endsWith("Z") ? text.substring(0, text.length() - 1) : text;
    }
    Duration d = Values.duration(text);
    if (d == null) {
      throw new Main.UsageError(option + ": " + text
          + " (expected: a duration back from now such as 1h or 7d, a date such as 2026-11-01, or a UTC time such as 2026-11-01T10:00)");
    }
    return TIME.format(Instant.now().minus(d));
  }

  static void printHeader(PrintWriter out) {
    out.printf(TEXT_FORMAT, "TIME", "REQUEST", "IP", "KEY", "ST", "REASON", "METHOD", "PATH", "MODEL");
  }

  static void printText(PrintWriter out, String line) throws IOException {
    JsonNode n = JSON.readTree(line);
    out.printf(TEXT_FORMAT, n.path("time").asText(), n.path("request_id").asText(), n.path("ip").asText(),
        orDash(n.path("key_id")), n.path("status").asText(), n.path("reason").asText(), n.path("method").asText(),
        orDash(n.path("path")), orDash(n.path("model")));
  }

  private static String orDash(JsonNode n) {
    return n.isNull() || n.isMissingNode() ? "-" : n.asText();
  }

  private static GatehouseConfig load(ConfigOptions options, Map<String, String> env, CommandLine.Model.CommandSpec spec) {
    try {
      return options.load(env, Map.of());
    } catch (ConfigException e) {
      spec.commandLine().getErr().print(e.report());
      return null;
    }
  }

  /** {@code gatehouse audit tail [-n N] [-f]}: the newest records of the log files. */
  @Command(name = "tail", mixinStandardHelpOptions = true,
      description = "Print the newest audit records from audit.jsonl (and the newest sealed segments, if it holds fewer); "
          + "with -f, keep printing new ones as they are written, across sealing.")
  static final class Tail implements Callable<Integer> {

    @Mixin ConfigOptions configOptions;

    @Option(names = "-n", paramLabel = "N", defaultValue = "20", description = "How many records. Default: ${DEFAULT-VALUE}.")
    int lines;

    @Option(names = {"-f", "--follow"}, description = "Keep printing records as they are written (until interrupted).")
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
      if (!Files.exists(file)) {
        spec.commandLine().getErr().println("audit log not found: " + file);
        return 2;
      }
      if (!json) {
        printHeader(out);
      }
      int n = Math.max(0, lines);
      try (Follow f = new Follow(out, config.dataDir())) {
        // The end of audit.jsonl and, when it holds fewer records than asked for (it was sealed
        // a short while ago), the ends of the newest sealed segments before it.
        Deque<String> last = lastLines(f.held.f(), f.pos, n);
        List<Path> sealed = AuditSegments.sealed(config.dataDir());
        for (int i = sealed.size() - 1; i >= 0 && last.size() < n; i--) {
          try (RandomAccessFile s = new RandomAccessFile(sealed.get(i).toFile(), "r")) {
            Deque<String> earlier = lastLines(s, s.length(), n - last.size());
            earlier.descendingIterator().forEachRemaining(last::addFirst);
          } catch (java.io.FileNotFoundException pruned) {
            break; // retention deleted it just now: older ones are gone too
          }
        }
        for (String l : last) {
          print(out, l);
        }
        out.flush();
        if (!follow) {
          return 0;
        }
        f.shown = newestSeq(f.held.f(), f.pos, sealed);
        while (!Thread.currentThread().isInterrupted()) {
          f.poll();
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

    /** The seq of the newest record before {@code pos} in audit.jsonl, or else in the newest segment; 0 for none. */
    private static long newestSeq(RandomAccessFile active, long pos, List<Path> sealed) throws IOException {
      Deque<String> last = lastLines(active, pos, 1);
      String line = !last.isEmpty() ? last.getLast() : sealed.isEmpty() ? null : AuditSegments.lastLine(sealed.getLast());
      return line == null ? 0 : JSON.readTree(line).path("seq").asLong();
    }

    /**
     * {@code tail -f}: audit.jsonl held open, how far it was read, and the newest record printed.
     * Only records newer than that are printed, so a record read twice (from a segment and from
     * the file it was sealed from) shows once.
     */
    private final class Follow implements AutoCloseable {
      private final PrintWriter out;
      private final Path dir;
      private final Path file;
      private final StringBuilder partial = new StringBuilder();
      private Held held;
      private long pos;
      private long shown;

      /** Opens audit.jsonl in {@code dir}; following starts at its current end. */
      Follow(PrintWriter out, Path dir) throws IOException {
        this.out = out;
        this.dir = dir;
        this.file = dir.resolve(AuditWriter.FILE);
        this.held = Held.open(file);
        this.pos = held.f().length();
      }

      @Override
      public void close() throws IOException {
        held.f().close();
      }

      /**
       * Prints what was added. Sealing renames the file held and starts a new audit.jsonl: the old
       * one is read to its end (it is sealed only after its last write), then the segments sealed
       * since (several, if sealing was quick), then the new file.
       */
      void poll() throws IOException {
        boolean replaced = held.replaced(file, pos);
        readToEnd();
        if (!replaced) {
          return;
        }
        held.f().close();
        held = Held.open(file);
        pos = 0;
        partial.setLength(0);
        for (Path p : AuditSegments.sealed(dir)) {
          if (AuditSegments.firstSeq(p) > shown) {
            try {
              for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                show(line);
              }
            } catch (NoSuchFileException pruned) {
              // retention deleted it meanwhile
            }
          }
        }
        readToEnd();
      }

      private void readToEnd() throws IOException {
        RandomAccessFile f = held.f();
        while (pos < f.length()) {
          f.seek(pos);
          byte[] buf = new byte[(int) Math.min(1 << 20, f.length() - pos)];
          f.readFully(buf);
          pos += buf.length;
          partial.append(new String(buf, StandardCharsets.UTF_8));
          int nl;
          while ((nl = partial.indexOf("\n")) >= 0) { // only whole lines: a write may be in progress
            show(partial.substring(0, nl));
            partial.delete(0, nl + 1);
          }
        }
      }

      private void show(String line) throws IOException {
        if (line.isEmpty()) {
          return;
        }
        long seq = JSON.readTree(line).path("seq").asLong();
        if (seq > shown) {
          print(out, line);
          shown = seq;
        }
      }
    }

    /** The last {@code n} lines of the first {@code len} bytes of a file, read from the end. */
    private static Deque<String> lastLines(RandomAccessFile f, long len, int n) throws IOException {
      // Read only the end, widening the window until it holds enough lines (records with
      // prompt text can be tens of KiB; most are well under 1 KiB).
      long window = (long) Math.max(1, n) * 2048;
      String text;
      while (true) {
        long start = Math.max(0, len - window);
        byte[] buf = new byte[(int) Math.min(Integer.MAX_VALUE - 16, len - start)];
        f.seek(start);
        f.readFully(buf);
        text = new String(buf, StandardCharsets.UTF_8);
        if (start > 0) {
          text = text.substring(text.indexOf('\n') + 1); // the first line may be cut
        }
        if (start == 0 || text.chars().filter(c -> c == '\n').count() >= n || window > (1L << 28)) {
          break;
        }
        window *= 4;
      }
      Deque<String> last = new ArrayDeque<>();
      for (String l : text.split("\n")) {
        if (l.isEmpty()) {
          continue;
        }
        last.addLast(l);
        if (last.size() > n) {
          last.removeFirst();
        }
      }
      return last;
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

    /** audit.jsonl, held open, and which file it is (null where the platform cannot tell). */
    private record Held(RandomAccessFile f, Object key) {

      static Held open(Path file) throws IOException {
        while (true) {
          Object key = fileKey(file);
          RandomAccessFile f = new RandomAccessFile(file.toFile(), "r");
          if (Objects.equals(key, fileKey(file))) {
            return new Held(f, key);
          }
          f.close(); // sealed and replaced in between: again
        }
      }

      /** True when the path now names another file than the one held (it was sealed). */
      boolean replaced(Path file, long pos) throws IOException {
        if (key == null) {
          return Files.exists(file) && Files.size(file) < pos;
        }
        Object now = fileKey(file);
        return now != null && !now.equals(key); // null: the new file is not there yet
      }

      private static Object fileKey(Path file) throws IOException {
        try {
          return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        } catch (NoSuchFileException e) {
          return null;
        }
      }
    }
  }

  /** {@code gatehouse audit query}: records from the indexed table. */
  @Command(name = "query", mixinStandardHelpOptions = true,
      description = "Find audit records by key, address, status, reason and time (newest first), from the database copy.")
  static final class Query implements Callable<Integer> {

    @Mixin ConfigOptions configOptions;

    @Option(names = "--key", paramLabel = "ID", description = "Only this key id.")
    String key;

    @Option(names = "--ip", paramLabel = "ADDRESS", description = "Only this client address.")
    String ip;

    @Option(names = "--status", paramLabel = "CODE", description = "Only this HTTP status.")
    Integer status;

    @Option(names = "--reason", paramLabel = "CODE", description = "Only this reason code (ok, auth.key_invalid, ...).")
    String reason;

    @Option(names = "--since", paramLabel = "WHEN", description = "From this time: 1h or 7d back from now, a date, or a UTC time.")
    String since;

    @Option(names = "--until", paramLabel = "WHEN", description = "Before this time (same forms as --since).")
    String until;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most this many records. Default: ${DEFAULT-VALUE}.")
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
      AuditStore.AuditQuery q = new AuditStore.AuditQuery(key, ip, status, reason, bound("--since", since), bound("--until", until), limit);
      GatehouseConfig config = load(configOptions, env, spec);
      if (config == null) {
        return 2;
      }
      PrintWriter out = spec.commandLine().getOut();
      try (Stores stores = Stores.open(config.store().kind(), config.dataDir())) {
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
  @Command(name = "summary", mixinStandardHelpOptions = true,
      description = "Requests, refusals and tokens per UTC day, key and model, from the audit log's database copy.")
  static final class Summary implements Callable<Integer> {

    @Mixin ConfigOptions configOptions;

    @Option(names = "--since", paramLabel = "WHEN", defaultValue = "7d",
        description = "From this time: 1h or 7d back from now, a date, or a UTC time. Default: ${DEFAULT-VALUE}.")
    String since;

    @Option(names = "--until", paramLabel = "WHEN", description = "Before this time (same forms as --since).")
    String until;

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
      try (Stores stores = Stores.open(config.store().kind(), config.dataDir())) {
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
          out.printf(fmt, s.day(), s.keyId(), s.model(), s.requests(), s.refused(), s.tokensIn(), s.tokensOut());
        }
      }
      return 0;
    }
  }
}
