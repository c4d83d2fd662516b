package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InstanceIdTest {

  @TempDir Path dir;

  @Test
  void withoutAConfiguredIdOneIsGeneratedOnceKeptOwnerOnlyAndReadBackOnEveryStart()
      throws Exception {
    // why: the chain must keep its name across restarts, and two data directories get two names
    String id = InstanceId.resolve(null, dir);
    assertThat(id).matches("gw-[0-9a-f]{12}");
    assertThat(InstanceId.resolve(null, dir)).isEqualTo(id);
    assertThat(Files.getPosixFilePermissions(dir.resolve(InstanceId.FILE)))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(InstanceId.resolve(null, dir.resolve("other"))).isNotEqualTo(id);
  }

  @Test
  void aConfiguredIdWinsAndNoFileIsWritten() {
    assertThat(InstanceId.resolve("gw-east.1", dir)).isEqualTo("gw-east.1");
    assertThat(dir.resolve(InstanceId.FILE)).doesNotExist();
  }

  @Test
  void aKeptFileThatIsNotAnIdIsRefusedNotUsed() throws Exception {
    // why: appending under a mangled name would start a second chain for the same gateway
    Files.writeString(dir.resolve(InstanceId.FILE), "gw a/../b\n", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> InstanceId.resolve(null, dir))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("not an instance id");
  }
}
