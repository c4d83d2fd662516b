package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.admin.AdminFixture;
import dev.gatehouse.admin.Role;
import dev.gatehouse.store.KeyRecord;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code gatehouse keys} and {@code bans} with an admin token: they go through a real gateway's
 * admin listener, so a change applies at once; they print what the store path prints; a refused
 * token fails without touching the store; and a listener that does not answer falls back to the
 * store, saying so.
 */
class CliThroughApiTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static AdminFixture fx;

  /** The store path: the same data directory and admin listener, no token. */
  static Map<String, String> store;

  @BeforeAll
  static void start() throws Exception {
    fx = AdminFixture.start(Map.of("bans.never", ""));
    store =
        Map.of(
            "GATEHOUSE_HOME",
            fx.gw.dataDir.toString(),
            "GATEHOUSE_ADMIN_LISTEN",
            "127.0.0.1:" + fx.port(),
            "GATEHOUSE_BANS_NEVER",
            "");
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  /** The store path's environment plus {@code GATEHOUSE_ADMIN_TOKEN} of {@code role}. */
  static Map<String, String> api(Role role) {
    return withToken(fx.tokens.get(role));
  }

  static Map<String, String> withToken(String token) {
    Map<String, String> env = new HashMap<>(store);
    env.put("GATEHOUSE_ADMIN_TOKEN", token);
    return env;
  }

  static CliRun ok(Map<String, String> env, String... args) {
    CliRun r = CliRun.run(env, args);
    assertThat(r.code()).as(r.err()).isZero();
    return r;
  }

  /** Succeeds through the API: nothing on stderr (no fallback notice). */
  static CliRun viaApi(Role role, String... args) {
    CliRun r = ok(api(role), args);
    assertThat(r.err()).isEmpty();
    return r;
  }

  static String tags(String key) {
    return "GET /api/tags HTTP/1.1\r\nHost: gatehouse.test\r\nAuthorization: Bearer "
        + key
        + "\r\nConnection: close\r\n\r\n";
  }

  /** Output with what differs from run to run (ids, secrets, times) masked. */
  static String masked(String out) {
    return out.replaceAll("gk_[a-z2-7]{12}_[A-Za-z0-9]{40}", "KEY")
        .replaceAll("\\b[a-z2-7]{12}\\b", "ID")
        .replaceAll("\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z", "TIME");
  }

  @Test
  void aKeyCreatedThroughTheApiWorksAtOnceAndItsRevocationHoldsAtOnce() throws Exception {
    // why: the point of the API path: the running gateway sees the change on the very next
    // request, without waiting for its store timer
    CliRun created = viaApi(Role.OPERATOR, "keys", "create", "--name", "via-api");
    String key = created.lastLine();
    assertThat(key).matches("gk_[a-z2-7]{12}_[A-Za-z0-9]{40}");
    assertThat(fx.gw.raw(tags(key)).status()).isEqualTo(200);

    String id = key.substring(3, 15);
    CliRun revoked = viaApi(Role.OPERATOR, "keys", "revoke", id);
    assertThat(revoked.out().strip())
        .isEqualTo("Revoked key " + id + "; it is refused from the next request on.");
    assertThat(fx.gw.raw(tags(key)).status()).isEqualTo(401);
  }

  @Test
  void everyCreateOptionReachesTheKeyThroughTheApi() throws Exception {
    // why: the API path must not drop what the store path honours (networks, guard, limits)
    JsonNode k =
        JSON.readTree(
            viaApi(
                    Role.OPERATOR,
                    "keys",
                    "create",
                    "--name",
                    "limited",
                    "--allow-cidr",
                    "192.0.2.0/24",
                    "--guard",
                    "block",
                    "--rpm",
                    "7",
                    "--max-output-tokens",
                    "64",
                    "--json")
                .out());
    KeyRecord r = fx.gw.keys.find(k.get("id").asText()).orElseThrow();
    assertThat(r.networks()).containsExactly("192.0.2.0/24");
    assertThat(r.guard()).isEqualTo("block");
    assertThat(r.limits().rpm()).isEqualTo(7);
    assertThat(r.limits().maxOutputTokens()).isEqualTo(64);
    assertThat(k.get("limits").toString()).isEqualTo("{\"rpm\":7,\"max_output_tokens\":64}");
  }

  @Test
  void keysPrintTheSameThroughTheApiAsThroughTheStore() throws Exception {
    // why: scripts read this output; which path ran must not change it
    String[] create = {
      "keys",
      "create",
      "--name",
      "same",
      "--models",
      "qwen*",
      "--scopes",
      "inference",
      "--expires",
      "2h"
    };
    assertThat(masked(viaApi(Role.OPERATOR, create).out()))
        .isEqualTo(masked(ok(store, create).out()));
    String[] json = append(create, "--json");
    assertThat(fieldsOf(JSON.readTree(viaApi(Role.OPERATOR, json).out())))
        .isEqualTo(fieldsOf(JSON.readTree(ok(store, json).out())));

    assertThat(viaApi(Role.VIEWER, "keys", "list").out())
        .isEqualTo(ok(store, "keys", "list").out());
    assertThat(JSON.readTree(viaApi(Role.VIEWER, "keys", "list", "--json").out()))
        .isEqualTo(JSON.readTree(ok(store, "keys", "list", "--json").out()));

    String[] rotateApi = {"keys", "rotate", idOf(ok(store, create)), "--grace", "1h"};
    String[] rotateStore = {"keys", "rotate", idOf(ok(store, create)), "--grace", "1h"};
    assertThat(masked(viaApi(Role.OPERATOR, rotateApi).out()))
        .isEqualTo(masked(ok(store, rotateStore).out()));
    String[] jsonApi = {"keys", "rotate", idOf(ok(store, create)), "--grace", "1h", "--json"};
    String[] jsonStore = {"keys", "rotate", idOf(ok(store, create)), "--grace", "1h", "--json"};
    JsonNode rotated = JSON.readTree(viaApi(Role.OPERATOR, jsonApi).out());
    assertThat(fieldsOf(rotated)).isEqualTo(fieldsOf(JSON.readTree(ok(store, jsonStore).out())));
    assertThat(rotated.get("replaces").asText()).isEqualTo(jsonApi[2]);
    assertThat(rotated.get("old_key_expires_at").asText()).matches("\\d{4}-.*Z");
  }

  private static String idOf(CliRun created) {
    return created.lastLine().substring(3, 15);
  }

  @Test
  void bansThroughTheApiHoldAtOnceAndPrintAsThroughTheStore() throws Exception {
    // why: a ban or unban through the API holds on the gateway's very next connection, and the
    // list reads the same either way
    String key = fx.gw.newKey();
    assertThat(fx.gw.raw(tags(key), "127.0.0.6").status()).isEqualTo(200);
    CliRun add =
        viaApi(Role.OPERATOR, "bans", "add", "127.0.0.6", "--for", "1h", "--reason", "testing");
    assertThat(add.out())
        .matches(
            "(?s)Banned 127\\.0\\.0\\.6 until \\S+Z; it is refused from its next request on\\.\\s*");
    assertThat(fx.gw.raw(tags(key), "127.0.0.6").status()).isEqualTo(-1);

    String[] addJson = {"bans", "add", "203.0.113.50", "--reason", "seen in a report", "--json"};
    JsonNode viaApi = JSON.readTree(viaApi(Role.OPERATOR, addJson).out());
    assertThat(viaApi.get("ip").asText()).isEqualTo("203.0.113.50");
    assertThat(viaApi.get("banned_until").isNull()).isTrue();
    addJson[2] = "203.0.113.51";
    assertThat(fieldsOf(JSON.readTree(ok(store, addJson).out()))).isEqualTo(fieldsOf(viaApi));

    assertThat(viaApi(Role.VIEWER, "bans", "list").out())
        .isEqualTo(ok(store, "bans", "list").out());
    assertThat(JSON.readTree(viaApi(Role.VIEWER, "bans", "list", "--all", "--json").out()))
        .isEqualTo(JSON.readTree(ok(store, "bans", "list", "--all", "--json").out()));

    CliRun remove = viaApi(Role.OPERATOR, "bans", "remove", "127.0.0.6");
    assertThat(remove.out().strip())
        .isEqualTo("Removed the ban on 127.0.0.6; it is served again from its next request on.");
    assertThat(fx.gw.raw(tags(key), "127.0.0.6").status()).isEqualTo(200);
    assertThat(viaApi(Role.OPERATOR, "bans", "remove", "203.0.113.50", "--json").out().strip())
        .isEqualTo("{\"ip\":\"203.0.113.50\",\"removed\":true}");
    ok(store, "bans", "remove", "203.0.113.51");
  }

  @Test
  void aRefusedTokenFailsClearlyAndChangesNothing() throws Exception {
    // why: fail closed: a bad token is an error to show, never a reason to use the store instead
    int keys = fx.gw.keys.list().size();
    CliRun r =
        CliRun.run(
            withToken("gha_aaaaaaaaaaaa_" + "b".repeat(40)), "keys", "create", "--name", "nope");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err())
        .contains("admin.credential_missing")
        .contains("GATEHOUSE_ADMIN_TOKEN")
        .contains("nothing was changed")
        .doesNotContain("store directly")
        .doesNotContain("b".repeat(40));
    assertThat(fx.gw.keys.list()).hasSize(keys);

    // a client key is no admin token either
    CliRun client = CliRun.run(withToken(fx.gw.newKey()), "bans", "add", "203.0.113.60");
    assertThat(client.code()).isEqualTo(1);
    assertThat(client.err()).contains("admin.credential_missing");

    // too small a role: 403, nothing banned
    CliRun viewer = CliRun.run(api(Role.VIEWER), "bans", "add", "203.0.113.60");
    assertThat(viewer.code()).isEqualTo(1);
    assertThat(viewer.err()).contains("admin.role_insufficient");
    assertThat(fx.stores.bans().listBans()).noneMatch(b -> b.ip().equals("203.0.113.60"));
  }

  @Test
  void theApisOwnRefusalsAreShownWithTheirCode() {
    // why: a mistake the API finds exits 2, like the same mistake on the store path
    CliRun r = CliRun.run(api(Role.OPERATOR), "keys", "revoke", "aaaaaaaaaaaa");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("admin.not_found").contains("request ");
    // and a mistake found before asking is worded as on the store path
    CliRun bad = CliRun.run(api(Role.OPERATOR), "bans", "add", "203.0.113.1", "--for", "0s");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--for: 0s (expected: a duration above zero");
  }

  @Test
  void aTokenFileWorksLikeTheVariable() throws Exception {
    // why: the option that keeps the token out of the environment as well as out of ps
    Path file = Files.createTempFile(fx.gw.dataDir, "admin", ".token");
    Files.writeString(file, fx.tokens.get(Role.VIEWER) + "\n");
    CliRun r = ok(store, "keys", "list", "--json", "--admin-token-file", file.toString());
    assertThat(r.err()).isEmpty();
    // a viewer may list but not create: proof that the file's token was the one used
    CliRun create =
        CliRun.run(store, "keys", "create", "--name", "x", "--admin-token-file", file.toString());
    assertThat(create.code()).isEqualTo(1);
    assertThat(create.err()).contains("admin.role_insufficient");

    Files.writeString(file, "not a token\nat all");
    CliRun bad = CliRun.run(store, "keys", "list", "--admin-token-file", file.toString());
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--admin-token-file").doesNotContain("not a token");
  }

  @Test
  void aListenerThatDoesNotAnswerFallsBackToTheStoreAndSaysSo() throws Exception {
    // why: with the gateway stopped, the CLI still works as it always did, and tells the operator
    // that the change waits for the gateway's store check rather than applying at once
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Map<String, String> env = api(Role.OPERATOR);
    env.put("GATEHOUSE_ADMIN_LISTEN", "127.0.0.1:" + closed);
    CliRun r = CliRun.run(env, "keys", "create", "--name", "offline", "--json");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err())
        .contains("admin API at http://127.0.0.1:" + closed)
        .contains("does not answer")
        .contains("working on the store directly");
    String id = JSON.readTree(r.out()).get("id").asText();
    assertThat(fx.gw.keys.find(id)).isPresent();
  }

  private static String[] append(String[] args, String more) {
    String[] out = java.util.Arrays.copyOf(args, args.length + 1);
    out[args.length] = more;
    return out;
  }

  private static List<String> fieldsOf(JsonNode o) {
    List<String> names = new java.util.ArrayList<>();
    for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }
}
