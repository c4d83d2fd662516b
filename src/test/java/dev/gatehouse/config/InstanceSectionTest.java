package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.gateway.ConfigChecks;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InstanceSectionTest {

  private static GatehouseConfig load(String id) throws ConfigException {
    return ConfigLoader.load(
        null, false, Map.of("GATEHOUSE_INSTANCE_ID", id), Map.of(), ConfigChecks.ALL);
  }

  @Test
  void anInstanceIdIsAShortNameOrEmptyForAGeneratedOne() throws Exception {
    // why: the id names a chain in every verify report and log line; no spaces, quotes or slashes
    assertThat(load("gw-east.1_a").instance().id()).isEqualTo("gw-east.1_a");
    assertThat(load("").instance().id()).isNull();
    assertThat(ConfigLoader.load(null, false, Map.of(), Map.of(), ConfigChecks.ALL).instance().id())
        .isNull();
    assertThatThrownBy(() -> load("gw a;b"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("instance.id: gw a;b (expected: 1-64 characters");
    assertThatThrownBy(() -> load("x".repeat(65))).isInstanceOf(ConfigException.class);
  }

  @Test
  void theInstanceIdNeedsARestart() {
    // why: the audit writer appends to one chain for its life; a renamed chain mid-run would split
    assertThat(Reloading.RESTART).contains("instance.id");
  }
}
