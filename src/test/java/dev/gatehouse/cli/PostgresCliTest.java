package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The CLI on {@code store.kind: postgres} (settings from the environment, as a deployment gives
 * them): keys made by one command are listed by the next, from another data directory, because they
 * live in the shared database.
 */
class PostgresCliTest {

  @Test
  void keysCreatedByOneCommandAreListedByAnotherOnTheSameDatabase() throws Exception {
    try (PostgresServer pg = PostgresServer.start()) {
      String url = pg.newDatabase();
      Path home = Files.createTempDirectory("gatehouse-cli-pg");
      Map<String, String> env =
          Map.of(
              "GATEHOUSE_HOME",
              home.toString(),
              "GATEHOUSE_STORE_KIND",
              "postgres",
              "GATEHOUSE_STORE_URL",
              url,
              "GATEHOUSE_STORE_USER",
              PostgresServer.USER,
              "GATEHOUSE_STORE_PASSWORD_FILE",
              pg.passwordFile().toString());
      CliRun made = CliRun.run(env, "keys", "create", "--name", "shared-laptop");
      assertThat(made.code()).as(made.err()).isZero();
      assertThat(made.lastLine()).matches("gk_[a-z2-7]{12}_[A-Za-z0-9]{40}");
      CliRun list = CliRun.run(env, "keys", "list");
      assertThat(list.code()).as(list.err()).isZero();
      assertThat(list.out()).contains("shared-laptop");
      // why: no SQLite database is made beside it; the data directory holds only the secret
      assertThat(home.resolve("gatehouse.db")).doesNotExist();
      // why: the password never appears in what the CLI prints
      assertThat(made.out() + made.err() + list.out() + list.err())
          .doesNotContain(PostgresServer.PASSWORD);
    }
  }

  @Test
  void aPostgresStoreWithoutAUrlIsRefusedAtLoad() {
    CliRun r =
        CliRun.run(
            Map.of("GATEHOUSE_STORE_KIND", "postgres", "GATEHOUSE_HOME", "/nonexistent-gh"),
            "keys",
            "list");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("store.url: (empty) (expected: jdbc:postgresql://");
  }
}
