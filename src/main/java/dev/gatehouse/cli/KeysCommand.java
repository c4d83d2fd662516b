package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.Values;
import dev.gatehouse.keys.KeyJson;
import dev.gatehouse.keys.KeyService;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.store.KeyRecord;
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

/** {@code gatehouse keys}: create, list, revoke and rotate API keys. */
@Command(
    name = "keys",
    mixinStandardHelpOptions = true,
    description = "Manage API keys. Changes take effect on a running gateway's next request.",
    subcommands = {
      KeysCommand.Create.class,
      KeysCommand.ListKeys.class,
      KeysCommand.Revoke.class,
      KeysCommand.Rotate.class
    })
final class KeysCommand implements Runnable {

  private static final ObjectMapper JSON = new ObjectMapper();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  KeysCommand(Map<String, String> env) {}

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** What every subcommand here shares, on top of {@link StoreCommand}. */
  abstract static class Base extends StoreCommand {
    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    Base(Map<String, String> env) {
      super(env);
    }

    static @Nullable Duration duration(String option, @Nullable String text) {
      if (text == null) {
        return null;
      }
      Duration d = Values.positiveDuration(text);
      if (d == null) {
        throw new IllegalArgumentException(
            option + ": " + text + " (expected: a duration above zero such as 12h, 30d)");
      }
      return d;
    }
  }

  static ObjectNode toJson(KeyRecord k, Instant now) {
    return KeyJson.of(k, now);
  }

  static void printCreated(PrintWriter out, KeyService.Created c, boolean json, String verb)
      throws Exception {
    KeyRecord r = c.record();
    if (json) {
      ObjectNode o = toJson(r, Instant.now());
      o.put("key", c.key());
      out.println(JSON.writeValueAsString(o));
      return;
    }
    out.println(verb + " key " + r.id() + " (" + r.name() + ")");
    out.println("  scopes:  " + String.join(", ", r.scopes()));
    out.println("  models:  " + (r.models().isEmpty() ? "* (any)" : String.join(", ", r.models())));
    out.println("  expires: " + (r.expiresAt() == null ? "never" : r.expiresAt().toString()));
    if (!r.networks().isEmpty()) {
      out.println("  from:    " + String.join(", ", r.networks()));
    }
    out.println("Store this key now; Gatehouse keeps only a hash and cannot show it again:");
    out.println(c.key());
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = "Create a key and print it once.")
  static final class Create extends Base {
    @Option(
        names = "--name",
        required = true,
        description = "A label for the key (who or what uses it).")
    String name;

    @Option(
        names = "--expires",
        paramLabel = "DURATION",
        description = "Lifetime, such as 12h or 30d. Default: never.")
    @Nullable String expires;

    @Option(
        names = "--models",
        arity = "1..*",
        paramLabel = "GLOB",
        description = "Models the key may use, as globs (llama3*, qwen2.5:7b). Default: any.")
    @Nullable List<String> models;

    @Option(
        names = "--allow-cidr",
        arity = "1..*",
        paramLabel = "CIDR",
        description =
            "Addresses or ranges the key may be used from (192.168.1.0/24, 2001:db8::/48); from elsewhere it gets 403. Default: anywhere.")
    @Nullable List<String> networks;

    @Option(
        names = "--scopes",
        arity = "1..*",
        paramLabel = "SCOPE",
        description =
            "Scopes, replacing the default (inference, embeddings, models.read). Known: inference, embeddings, models.read, models.inspect, models.manage, account, cloud.")
    @Nullable List<String> scopes;

    @Option(
        names = "--rpm",
        description = "Requests per minute for this key (default: rate.key_rpm).")
    @Nullable Integer rpm;

    @Option(
        names = "--burst",
        description =
            "Requests this key may make at once before --rpm applies (default: rate.key_burst).")
    @Nullable Integer burst;

    @Option(
        names = "--tpm",
        description =
            "Tokens (prompt + output) per minute for this key (default: budget.tokens_per_minute).")
    @Nullable Long tpm;

    @Option(
        names = "--tpd",
        description =
            "Tokens (prompt + output) per UTC day for this key (default: budget.tokens_per_day).")
    @Nullable Long tpd;

    @Option(
        names = "--concurrency",
        description = "Requests in flight at once for this key (default: concurrency.per_key).")
    @Nullable Integer concurrency;

    @Option(
        names = "--max-output-tokens",
        description = "Largest output a request may ask for (default: caps.max_output_tokens).")
    @Nullable Integer maxOutputTokens;

    @Option(
        names = "--guard",
        paramLabel = "MODE",
        description = "The prompt guard for this key: off, log or block (default: guard.mode).")
    @Nullable String guard;

    Create(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) throws Exception {
      KeyService.Created c =
          ctx.keys.create(
              name,
              duration("--expires", expires),
              models,
              scopes,
              new KeyLimits(rpm, burst, tpm, tpd, concurrency, maxOutputTokens),
              networks,
              guard);
      printCreated(out, c, json, "Created");
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List keys (never their secrets).")
  static final class ListKeys extends Base {
    ListKeys(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) throws Exception {
      Instant now = Instant.now();
      List<KeyRecord> all = ctx.keys.list();
      if (json) {
        ArrayNode a = JSON.createArrayNode();
        all.forEach(k -> a.add(toJson(k, now)));
        out.println(JSON.writeValueAsString(a));
        return 0;
      }
      String fmt = "%-12s  %-20s  %-8s  %-40s  %-20s  %s%n";
      out.printf(fmt, "ID", "NAME", "STATUS", "SCOPES", "MODELS", "EXPIRES");
      for (KeyRecord k : all) {
        out.printf(
            fmt,
            k.id(),
            k.name(),
            k.status(now),
            String.join(",", k.scopes()),
            k.models().isEmpty() ? "*" : String.join(",", k.models()),
            k.expiresAt() == null ? "never" : k.expiresAt().toString());
      }
      return 0;
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a key at once.")
  static final class Revoke extends Base {
    @Parameters(paramLabel = "ID", description = "The key's id, as shown by keys list.")
    String id;

    Revoke(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) throws Exception {
      boolean done = ctx.keys.revoke(id);
      if (!done) {
        throw new IllegalArgumentException(
            "ID: " + id + " (expected: the id of an active key; see keys list)");
      }
      if (json) {
        out.println(
            JSON.writeValueAsString(toJson(ctx.keys.find(id).orElseThrow(), Instant.now())));
      } else {
        out.println("Revoked key " + id + "; it is refused from the next request on.");
      }
      return 0;
    }
  }

  @Command(
      name = "rotate",
      mixinStandardHelpOptions = true,
      description = "Replace a key with a new one (same name, scopes and models), printed once.")
  static final class Rotate extends Base {
    @Parameters(paramLabel = "ID", description = "The key's id, as shown by keys list.")
    String id;

    @Option(
        names = "--grace",
        paramLabel = "DURATION",
        description = "How long the old key keeps working, such as 1h. Default: it stops now.")
    @Nullable String grace;

    Rotate(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) throws Exception {
      Duration g =
          grace == null
              ? Duration.ZERO
              : java.util.Objects.requireNonNull(duration("--grace", grace));
      KeyService.Created c = ctx.keys.rotate(id, g);
      if (json) {
        ObjectNode o = toJson(c.record(), Instant.now());
        o.put("key", c.key());
        o.put("replaces", id);
        o.put(
            "old_key_expires_at",
            String.valueOf(ctx.keys.find(id).map(KeyRecord::expiresAt).orElse(null)));
        out.println(JSON.writeValueAsString(o));
      } else {
        out.println(
            "Old key "
                + id
                + (g.isZero() ? " stops working now." : " keeps working for " + grace + "."));
        printCreated(out, c, false, "Rotated to");
      }
      return 0;
    }
  }
}
