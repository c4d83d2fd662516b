package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code gatehouse admins}: the way back in when every admin token is lost. */
class AdminsCommandTest {

  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void createListAndRevokeButNeverTheLastAdmin() throws Exception {
    // why: recovery works on the store alone, shows a token once, and cannot lock everyone out
    Path home = Files.createTempDirectory("gh-admins");
    Map<String, String> env = Map.of("GATEHOUSE_HOME", home.toString());
    CliRun first = CliRun.run(env, "admins", "create", "--name", "ops", "--role", "admin");
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(first.out()).containsPattern("\\ngha_[a-z2-7]{12}_[A-Za-z0-9]{40}\\n");
    String id = first.out().substring("Created admin credential ".length(), 37);

    CliRun json =
        CliRun.run(env, "admins", "create", "--name", "grafana", "--role", "viewer", "--json");
    JsonNode viewer = JSON.readTree(json.out());
    assertThat(viewer.get("role").asText()).isEqualTo("viewer");
    assertThat(viewer.get("secret").asText()).startsWith("gha_");

    CliRun list = CliRun.run(env, "admins", "list");
    assertThat(list.out()).contains(id).contains("grafana").doesNotContain("gha_");

    CliRun last = CliRun.run(env, "admins", "revoke", id);
    assertThat(last.code()).isEqualTo(1);
    assertThat(last.err()).contains("last active admin");

    assertThat(CliRun.run(env, "admins", "revoke", viewer.get("id").asText()).code()).isZero();
    assertThat(CliRun.run(env, "admins", "revoke", viewer.get("id").asText()).code()).isEqualTo(1);
    JsonNode after = JSON.readTree(CliRun.run(env, "admins", "list", "--json").out());
    assertThat(after).hasSize(2);
    assertThat(after.findValues("revoked_at")).filteredOn(v -> !v.isNull()).hasSize(1);

    CliRun badRole = CliRun.run(env, "admins", "create", "--name", "x", "--role", "root");
    assertThat(badRole.code()).isEqualTo(2);
    assertThat(badRole.err()).contains("--role: root (expected: viewer, operator or admin)");
  }

  @Test
  void resetTotpRemovesALostSecondFactor() throws Exception {
    // why: a lost phone and lost recovery codes must not leave a credential locked out of the
    // dashboard for good; the host's operator can remove the factor
    Path home = Files.createTempDirectory("gh-admins-totp");
    Map<String, String> env = Map.of("GATEHOUSE_HOME", home.toString());
    JsonNode created =
        JSON.readTree(
            CliRun.run(env, "admins", "create", "--name", "ops", "--role", "admin", "--json")
                .out());
    String id = created.get("id").asText();
    CliRun none = CliRun.run(env, "admins", "reset-totp", id);
    assertThat(none.code()).isEqualTo(1);
    assertThat(none.err()).contains("has no second factor");
    try (var store = dev.gatehouse.store.SqliteStore.open(home)) {
      var admins = dev.gatehouse.store.Stores.sqlite(store).admins();
      assertThat(admins.beginTotp(id, new byte[40], java.time.Instant.now())).isTrue();
    }
    CliRun reset = CliRun.run(env, "admins", "reset-totp", id);
    assertThat(reset.code()).as(reset.err()).isZero();
    assertThat(reset.out()).contains("Removed the second factor of admin credential " + id);
  }
}
