package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.GatewayFixture;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code gatehouse keys} against the data directory of a running gateway: every change takes effect
 * on the gateway's next request, without a restart.
 */
class KeysCommandTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static GatewayFixture gw;
  static Map<String, String> env;

  @BeforeAll
  static void start() throws Exception {
    gw = GatewayFixture.start();
    env = Map.of("GATEHOUSE_HOME", gw.dataDir.toString());
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  private static JsonNode json(CliRun r) throws Exception {
    assertThat(r.code()).as(r.err()).isZero();
    return JSON.readTree(r.out());
  }

  private static int tags(String key) throws Exception {
    return gw.get("/api/tags", key).statusCode();
  }

  @Test
  void createPrintsTheKeyOnceAloneOnTheLastLineAndItWorksAtOnce() throws Exception {
    // why: the key is shown exactly once, in a form a script can take with `tail -n 1`
    CliRun r = CliRun.run(env, "keys", "create", "--name", "laptop");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.lastLine()).matches("gk_[a-z2-7]{12}_[A-Za-z0-9]{40}");
    assertThat(tags(r.lastLine())).isEqualTo(200);
  }

  @Test
  void jsonCreateHasIdNameAndKeyAndListShowsNoSecrets() throws Exception {
    // why: keys list must never print key material or hashes
    JsonNode created =
        json(
            CliRun.run(
                env,
                "keys",
                "create",
                "--name",
                "ci bot",
                "--models",
                "qwen*",
                "--scopes",
                "inference",
                "models.read",
                "--json"));
    assertThat(created.get("id").asText()).hasSize(12);
    assertThat(created.get("name").asText()).isEqualTo("ci bot");
    String key = created.get("key").asText();
    assertThat(key).startsWith("gk_" + created.get("id").asText() + "_");
    assertThat(created.get("scopes").toString()).isEqualTo("[\"inference\",\"models.read\"]");
    CliRun list = CliRun.run(env, "keys", "list", "--json");
    assertThat(list.out())
        .contains(created.get("id").asText())
        .doesNotContain(key)
        .doesNotContain(key.substring(16))
        .doesNotContain("hash");
    CliRun text = CliRun.run(env, "keys", "list");
    assertThat(text.out()).contains("ci bot").doesNotContain(key.substring(16));
  }

  @Test
  void revokeTakesEffectOnTheNextRequest() throws Exception {
    // why: a leaked key must stop working now, not at the next restart
    JsonNode k = json(CliRun.run(env, "keys", "create", "--name", "leaky", "--json"));
    String key = k.get("key").asText();
    assertThat(tags(key)).isEqualTo(200);
    JsonNode revoked = json(CliRun.run(env, "keys", "revoke", k.get("id").asText(), "--json"));
    assertThat(revoked.get("status").asText()).isEqualTo("revoked");
    int before = gw.upstream.requests().size();
    assertThat(tags(key)).isEqualTo(401);
    assertThat(gw.upstream.requests()).hasSize(before);
    CliRun again = CliRun.run(env, "keys", "revoke", k.get("id").asText());
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).contains("expected: the id of an active key");
  }

  @Test
  void rotateWithoutGraceStopsTheOldKeyAndWithGraceKeepsBothForAWhile() throws Exception {
    // why: rotation without an outage needs an overlap; rotation after a leak needs none
    JsonNode k = json(CliRun.run(env, "keys", "create", "--name", "svc", "--json"));
    JsonNode rotated = json(CliRun.run(env, "keys", "rotate", k.get("id").asText(), "--json"));
    assertThat(rotated.get("replaces").asText()).isEqualTo(k.get("id").asText());
    assertThat(rotated.get("name").asText()).isEqualTo("svc");
    assertThat(tags(k.get("key").asText())).isEqualTo(401);
    assertThat(tags(rotated.get("key").asText())).isEqualTo(200);

    JsonNode rotatedAgain =
        json(
            CliRun.run(
                env, "keys", "rotate", rotated.get("id").asText(), "--grace", "1h", "--json"));
    assertThat(tags(rotated.get("key").asText())).isEqualTo(200);
    assertThat(tags(rotatedAgain.get("key").asText())).isEqualTo(200);
    CliRun text =
        CliRun.run(env, "keys", "rotate", rotatedAgain.get("id").asText(), "--grace", "2h");
    assertThat(text.lastLine()).matches("gk_[a-z2-7]{12}_[A-Za-z0-9]{40}");
    assertThat(tags(text.lastLine())).isEqualTo(200);
  }

  @Test
  void anExpiredKeyIsRefused() throws Exception {
    // why: --expires must be enforced by the gateway, at request time
    JsonNode k =
        json(CliRun.run(env, "keys", "create", "--name", "short", "--expires", "1s", "--json"));
    assertThat(tags(k.get("key").asText())).isEqualTo(200);
    Thread.sleep(1200);
    assertThat(tags(k.get("key").asText())).isEqualTo(401);
    assertThat(CliRun.run(env, "keys", "list").out()).contains("expired");
  }

  @Test
  void badArgumentsExitWithStatusTwoAndSayWhatWasExpected() {
    // why: operators script these commands; mistakes must be loud and precise
    CliRun scope = CliRun.run(env, "keys", "create", "--name", "x", "--scopes", "root");
    assertThat(scope.code()).isEqualTo(2);
    assertThat(scope.err())
        .contains(
            "--scopes: root (expected: one of inference, embeddings, models.read, models.inspect, models.manage, account, cloud)");
    CliRun expires = CliRun.run(env, "keys", "create", "--name", "x", "--expires", "soon");
    assertThat(expires.code()).isEqualTo(2);
    assertThat(expires.err()).contains("--expires: soon (expected:");
    CliRun name = CliRun.run(env, "keys", "create", "--name", "");
    assertThat(name.code()).isEqualTo(2);
    assertThat(CliRun.run(env, "keys", "rotate", "nosuchkey").code()).isEqualTo(2);
  }
}
