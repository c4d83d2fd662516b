package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code limits.kind} and {@code redis.*}: the combinations refused at load, with clear lines. */
class RedisSectionTest {

  private static GatehouseConfig load(Map<String, String> flags) throws ConfigException {
    return ConfigLoader.load(null, false, Map.of(), flags, List.of());
  }

  private static List<String> problems(Map<String, String> flags) {
    try {
      load(flags);
    } catch (ConfigException e) {
      return e.problems();
    }
    throw new AssertionError("loaded: " + flags);
  }

  @Test
  void theDefaultIsLocalAndAStandaloneRedisLoads() throws Exception {
    assertThat(load(Map.of()).sharedLimits().redis()).isFalse();
    GatehouseConfig c =
        load(Map.of("limits.kind", "redis", "redis.url", "rediss://redis.internal:6380/2"));
    assertThat(c.sharedLimits().redis()).isTrue();
    assertThat(c.sharedLimits().timeout().toMillis()).isEqualTo(500);
    assertThat(c.sharedLimits().keyPrefix()).isEqualTo("gatehouse:");
  }

  @Test
  void redisSettingsWhileTheLimitsStayLocalAreRefused() {
    // why: each gateway would count alone, which is what the operator set Redis up to prevent
    assertThat(problems(Map.of("redis.url", "redis://127.0.0.1:6379")))
        .anyMatch(l -> l.startsWith("redis.url: set while limits.kind is local"));
  }

  @Test
  void aTlsCaIsReadableAndOnlyWithATlsAddress(@TempDir Path dir) throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "not checked at load\n");
    GatehouseConfig c =
        load(
            Map.of(
                "limits.kind", "redis",
                "redis.url", "rediss://redis.internal:6380",
                "redis.tls_ca", ca.toString()));
    assertThat(c.sharedLimits().tlsCa()).isEqualTo(ca);
    // why: a CA for a plain-text connection would check nothing; the operator meant TLS
    assertThat(
            problems(
                Map.of(
                    "limits.kind", "redis",
                    "redis.url", "redis://redis.internal:6379",
                    "redis.tls_ca", ca.toString())))
        .anyMatch(l -> l.startsWith("redis.tls_ca: set without a rediss:// address"));
    assertThat(
            problems(
                Map.of(
                    "limits.kind", "redis",
                    "redis.url", "rediss://redis.internal:6380",
                    "redis.tls_ca", dir.resolve("missing.pem").toString())))
        .anyMatch(l -> l.startsWith("redis.tls_ca: ") && l.contains("a readable PEM file"));
    assertThat(
            load(Map.of(
                    "limits.kind", "redis",
                    "redis.mode", "cluster",
                    "redis.endpoints", "rediss://a:6380",
                    "redis.tls_ca", ca.toString()))
                .sharedLimits()
                .tlsCa())
        .as("a TLS endpoint is enough")
        .isEqualTo(ca);
  }

  @Test
  void sentinelNeedsAMasterNameAndEndpoints() {
    List<String> p = problems(Map.of("limits.kind", "redis", "redis.mode", "sentinel"));
    assertThat(p).anyMatch(l -> l.startsWith("redis.master_name: empty"));
    assertThat(p).anyMatch(l -> l.startsWith("redis.endpoints: empty"));
  }

  @Test
  void standaloneNeedsAUrlAndNoEndpoints() {
    assertThat(problems(Map.of("limits.kind", "redis")))
        .anyMatch(l -> l.startsWith("redis.url: empty"));
    assertThat(
            problems(
                Map.of(
                    "limits.kind", "redis",
                    "redis.url", "redis://a:1",
                    "redis.endpoints", "redis://b:1")))
        .anyMatch(l -> l.startsWith("redis.endpoints: set with redis.mode standalone"));
  }

  @Test
  void aPasswordInTheUrlIsRefusedWithoutBeingShown() {
    List<String> p =
        problems(Map.of("limits.kind", "redis", "redis.url", "redis://:hunter2@127.0.0.1:6379"));
    assertThat(p).anyMatch(l -> l.startsWith("redis.url: a URL with user information"));
    assertThat(String.join("\n", p)).doesNotContain("hunter2");
  }

  @Test
  void otherMistakesAreNamed() {
    List<String> p =
        problems(
            Map.of(
                "limits.kind", "redis",
                "redis.url", "http://127.0.0.1:6379",
                "redis.user", "gatehouse",
                "redis.timeout", "0s",
                "redis.key_prefix", "a{b}"));
    assertThat(p).anyMatch(l -> l.startsWith("redis.url: http://127.0.0.1:6379 (expected"));
    assertThat(p).anyMatch(l -> l.startsWith("redis.user: set without redis.password_file"));
    assertThat(p).anyMatch(l -> l.startsWith("redis.timeout"));
    assertThat(p).anyMatch(l -> l.startsWith("redis.key_prefix"));
    assertThat(problems(Map.of("limits.kind", "memcached")))
        .anyMatch(l -> l.startsWith("limits.kind"));
  }
}
