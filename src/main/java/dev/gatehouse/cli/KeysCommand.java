package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.Values;
import dev.gatehouse.keys.KeyJson;
import dev.gatehouse.keys.KeyService;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.store.KeyRecord;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gatehouse keys}: create, list, revoke and rotate API keys, through a running gateway's
 * admin API when given an admin token, else on the store. Both ways print alike: each prints from
 * the key's {@link KeyJson} shape, which is also what the API answers.
 */
@Command(
    name = "keys",
    mixinStandardHelpOptions = true,
    description = {
      "Manage API keys. Changes take effect on a running gateway's next request.",
      "With an admin token (env "
          + AdminClient.TOKEN_ENV
          + " or --admin-token-file) they go through its admin API (admin.listen); without one,"
          + " or when that does not answer, through the store."
    },
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

  /** What every subcommand here shares, on top of {@link ApiCommand}. */
  abstract static class Base extends ApiCommand {
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

  /** The strings of a JSON array (none when absent). */
  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(e -> out.add(e.asText()));
    return out;
  }

  /** A string member, or null when absent or null. */
  static @Nullable String text(JsonNode o, String field) {
    JsonNode n = o.get(field);
    return n == null || n.isNull() ? null : n.asText();
  }

  /** A member that must be there: the API answered something else when it is not. */
  static JsonNode member(JsonNode o, String field) throws IOException {
    JsonNode n = o.get(field);
    if (n == null || n.isNull()) {
      throw new IOException("the admin API answered without \"" + field + "\"");
    }
    return n;
  }

  /** A new key (its {@link KeyJson} shape) and its secret, the secret alone on the last line. */
  static void printCreated(PrintWriter out, JsonNode key, String secret, boolean json, String verb)
      throws Exception {
    if (json) {
      ObjectNode o = key.deepCopy();
      o.put("key", secret);
      out.println(JSON.writeValueAsString(o));
      return;
    }
    List<String> models = strings(key.path("models"));
    List<String> networks = strings(key.path("networks"));
    String expires = text(key, "expires_at");
    out.println(verb + " key " + text(key, "id") + " (" + text(key, "name") + ")");
    out.println("  scopes:  " + String.join(", ", strings(key.path("scopes"))));
    out.println("  models:  " + (models.isEmpty() ? "* (any)" : String.join(", ", models)));
    out.println("  expires: " + (expires == null ? "never" : expires));
    if (!networks.isEmpty()) {
      out.println("  from:    " + String.join(", ", networks));
    }
    out.println("Store this key now; Gatehouse keeps only a hash and cannot show it again:");
    out.println(secret);
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
      printCreated(out, toJson(c.record(), Instant.now()), c.key(), json, "Created");
      return 0;
    }

    @Override
    int runApi(AdminClient api, PrintWriter out) throws Exception {
      duration("--expires", expires); // the same message as the store path for a bad one
      ObjectNode body = JSON.createObjectNode();
      body.put("name", name);
      body.put("expires_in", expires);
      putStrings(body, "models", models);
      putStrings(body, "scopes", scopes);
      putStrings(body, "networks", networks);
      body.put("guard", guard);
      KeyLimits limits = new KeyLimits(rpm, burst, tpm, tpd, concurrency, maxOutputTokens);
      if (!limits.isEmpty()) {
        body.set("limits", JSON.valueToTree(limits));
      }
      JsonNode r = api.post("/api/v1/keys", body);
      printCreated(out, member(r, "key"), member(r, "secret").asText(), json, "Created");
      return 0;
    }

    private static void putStrings(ObjectNode body, String field, @Nullable List<String> values) {
      if (values != null) {
        values.forEach(body.putArray(field)::add);
      }
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
      ArrayNode a = JSON.createArrayNode();
      ctx.keys.list().forEach(k -> a.add(toJson(k, now)));
      print(out, a);
      return 0;
    }

    @Override
    int runApi(AdminClient api, PrintWriter out) throws Exception {
      JsonNode keys = member(api.get("/api/v1/keys"), "keys");
      if (!keys.isArray()) {
        throw new IOException("the admin API answered \"keys\" that is not a list");
      }
      print(out, (ArrayNode) keys);
      return 0;
    }

    private void print(PrintWriter out, ArrayNode all) throws Exception {
      if (json) {
        out.println(JSON.writeValueAsString(all));
        return;
      }
      String fmt = "%-12s  %-20s  %-8s  %-40s  %-20s  %s%n";
      out.printf(fmt, "ID", "NAME", "STATUS", "SCOPES", "MODELS", "EXPIRES");
      for (JsonNode k : all) {
        List<String> models = strings(k.path("models"));
        String expires = text(k, "expires_at");
        out.printf(
            fmt,
            text(k, "id"),
            text(k, "name"),
            text(k, "status"),
            String.join(",", strings(k.path("scopes"))),
            models.isEmpty() ? "*" : String.join(",", models),
            expires == null ? "never" : expires);
      }
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
      print(out, toJson(ctx.keys.find(id).orElseThrow(), Instant.now()));
      return 0;
    }

    @Override
    int runApi(AdminClient api, PrintWriter out) throws Exception {
      JsonNode r =
          api.post("/api/v1/keys/" + AdminClient.segment(id) + "/revoke", JSON.createObjectNode());
      print(out, member(r, "key"));
      return 0;
    }

    private void print(PrintWriter out, JsonNode key) throws Exception {
      if (json) {
        out.println(JSON.writeValueAsString(key));
      } else {
        out.println("Revoked key " + id + "; it is refused from the next request on.");
      }
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

    private Duration grace() {
      return grace == null
          ? Duration.ZERO
          : java.util.Objects.requireNonNull(duration("--grace", grace));
    }

    @Override
    int run(Context ctx, PrintWriter out) throws Exception {
      Duration g = grace();
      KeyService.Created c = ctx.keys.rotate(id, g);
      print(
          out,
          g,
          toJson(c.record(), Instant.now()),
          c.key(),
          String.valueOf(ctx.keys.find(id).map(KeyRecord::expiresAt).orElse(null)));
      return 0;
    }

    @Override
    int runApi(AdminClient api, PrintWriter out) throws Exception {
      Duration g = grace(); // the same message as the store path for a bad one
      ObjectNode body = JSON.createObjectNode();
      if (grace != null) {
        body.put("grace", grace);
      }
      JsonNode r = api.post("/api/v1/keys/" + AdminClient.segment(id) + "/rotate", body);
      JsonNode old = r.path("replaced_key");
      print(
          out,
          g,
          member(r, "key"),
          member(r, "secret").asText(),
          String.valueOf(text(old, "expires_at")));
      return 0;
    }

    private void print(PrintWriter out, Duration g, JsonNode key, String secret, String oldExpires)
        throws Exception {
      if (json) {
        ObjectNode o = key.deepCopy();
        o.put("key", secret);
        o.put("replaces", id);
        o.put("old_key_expires_at", oldExpires);
        out.println(JSON.writeValueAsString(o));
      } else {
        out.println(
            "Old key "
                + id
                + (g.isZero() ? " stops working now." : " keeps working for " + grace + "."));
        printCreated(out, key, secret, false, "Rotated to");
      }
    }
  }
}
