package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database already at this build's latest migration opens without Flyway; every other one still
 * goes through Flyway, which migrates it or refuses it, and one newer than this build is refused.
 */
class SqliteSchemaTest {

  @TempDir Path dir;

  private String url() {
    return "jdbc:sqlite:" + dir.resolve("gatehouse.db");
  }

  private void sql(String statement) throws Exception {
    try (Connection c = DriverManager.getConnection(url());
        Statement st = c.createStatement()) {
      st.executeUpdate(statement);
    }
  }

  private SqliteSchema.State state() throws Exception {
    try (Connection c = DriverManager.getConnection(url())) {
      return SqliteSchema.check(c).state();
    }
  }

  private void migrateWithFlywayTo(String target) {
    Flyway.configure()
        .dataSource(url(), null, null)
        .locations("classpath:" + SqliteSchema.LOCATION)
        .target(target)
        .load()
        .migrate();
  }

  @Test
  void theListNamesEveryMigrationInTheDirectory() throws Exception {
    URL location = SqliteSchema.class.getClassLoader().getResource(SqliteSchema.LOCATION);
    assertThat(location).isNotNull();
    List<String> files;
    try (Stream<Path> s = Files.list(Path.of(location.toURI()))) {
      files = s.map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertThat(SqliteSchema.MIGRATIONS).containsExactlyElementsOf(files);
  }

  @Test
  void aNewDatabaseIsMigratedByFlywayAndThenOpensWithoutIt() throws Exception {
    try (SqliteStore s = SqliteStore.open(dir)) {
      assertThat(s.ranFlyway()).isTrue();
    }
    // The history Flyway wrote is exactly this build's: checksums and descriptions computed here
    // match Flyway's own.
    assertThat(state()).isEqualTo(SqliteSchema.State.CURRENT);
    try (SqliteStore s = SqliteStore.open(dir)) {
      assertThat(s.ranFlyway()).isFalse();
      assertThat(s.list()).isEmpty(); // and it is usable
    }
  }

  @Test
  void anOlderSchemaIsStillMigratedByFlyway() throws Exception {
    migrateWithFlywayTo("3");
    assertThat(state()).isEqualTo(SqliteSchema.State.FLYWAY);
    try (SqliteStore s = SqliteStore.open(dir)) {
      assertThat(s.ranFlyway()).isTrue();
    }
    assertThat(state()).isEqualTo(SqliteSchema.State.CURRENT);
  }

  @Test
  void aSchemaNewerThanThisBuildIsRefused() throws Exception {
    SqliteStore.open(dir).close();
    sql(
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
            + " checksum, installed_by, execution_time, success)"
            + " VALUES (99, '99', 'from a later build', 'SQL', 'V99__from_a_later_build.sql', 1,"
            + " '', 0, 1)");
    assertThat(state()).isEqualTo(SqliteSchema.State.NEWER);
    assertThatThrownBy(() -> SqliteStore.open(dir))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("schema is at version 99, newer than this build knows (latest 9)");
  }

  @Test
  void anEditedMigrationGoesToFlywayWhichRefusesIt() throws Exception {
    SqliteStore.open(dir).close();
    sql("UPDATE flyway_schema_history SET checksum = checksum + 1 WHERE version = '3'");
    assertThat(state()).isEqualTo(SqliteSchema.State.FLYWAY);
    assertThatThrownBy(() -> SqliteStore.open(dir))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("cannot migrate")
        .hasMessageContaining("checksum mismatch");
  }

  @Test
  void aFailedMigrationGoesToFlywayWhichRefusesIt() throws Exception {
    SqliteStore.open(dir).close();
    sql("UPDATE flyway_schema_history SET success = 0 WHERE version = '5'");
    assertThat(state()).isEqualTo(SqliteSchema.State.FLYWAY);
    assertThatThrownBy(() -> SqliteStore.open(dir))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("cannot migrate");
  }

  @Test
  void aChangedDescriptionGoesToFlywayWhichRefusesIt() throws Exception {
    SqliteStore.open(dir).close();
    sql("UPDATE flyway_schema_history SET description = 'something else' WHERE version = '1'");
    assertThat(state()).isEqualTo(SqliteSchema.State.FLYWAY);
    assertThatThrownBy(() -> SqliteStore.open(dir))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("cannot migrate");
  }

  @Test
  void tablesWithoutAHistoryGoToFlywayWhichRefusesThem() throws Exception {
    sql("CREATE TABLE api_keys (id TEXT PRIMARY KEY)");
    assertThat(state()).isEqualTo(SqliteSchema.State.FLYWAY);
    assertThatThrownBy(() -> SqliteStore.open(dir)).isInstanceOf(StoreException.class);
  }

  @Test
  void versionsCompareAsNumbersPartByPart() {
    assertThat(SqliteSchema.compare("10", "9")).isPositive();
    assertThat(SqliteSchema.compare("5", "5.0")).isZero();
    assertThat(SqliteSchema.compare("5.1", "5")).isPositive();
    assertThat(SqliteSchema.compare("4.9", "5")).isNegative();
    assertThat(SqliteSchema.compare("5x", "5")).isPositive(); // unknown: after every number
    assertThat(SqliteSchema.versionOf("V2__limits_and_usage.sql")).isEqualTo("2");
    assertThat(SqliteSchema.descriptionOf("V2__limits_and_usage.sql"))
        .isEqualTo("limits and usage");
  }
}
