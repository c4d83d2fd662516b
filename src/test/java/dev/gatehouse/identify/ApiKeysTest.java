package dev.gatehouse.identify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

  @Test
  void generatedKeysParseHashAndCompare() {
    // why: the id must be recoverable from the key, and only the right secret may match
    ApiKeys keys = new ApiKeys(new byte[32]);
    ApiKeys.NewKey k = keys.generate();
    assertThat(k.key()).matches("gk_[a-z2-7]{12}_[A-Za-z0-9]{40}");
    assertThat(ApiKeys.idOf(k.key())).isEqualTo(k.id());
    assertThat(keys.matches(k.key(), k.hash())).isTrue();
    String tampered =
        k.key().substring(0, k.key().length() - 1) + (k.key().endsWith("A") ? "B" : "A");
    assertThat(keys.matches(tampered, k.hash())).isFalse();
    assertThat(new ApiKeys(new byte[] {1}).matches(k.key(), k.hash()))
        .as("another server secret")
        .isFalse();
  }

  @Test
  void malformedKeysHaveNoId() {
    assertThat(ApiKeys.idOf(null)).isNull();
    assertThat(ApiKeys.idOf("password")).isNull();
    assertThat(ApiKeys.idOf("gk_ABCDEFGHIJKL_" + "a".repeat(40))).isNull();
    assertThat(ApiKeys.idOf("gk_abcdefghijkl_" + "a".repeat(39) + "!")).isNull();
  }

  @Test
  void theServerSecretIsCreatedOnceAndPrivate() throws Exception {
    // why: no built-in secret; the file must not be readable by others
    Path dir = Files.createTempDirectory("gh-secret");
    byte[] a = ServerSecret.loadOrCreate(dir);
    byte[] b = ServerSecret.loadOrCreate(dir);
    assertThat(a).hasSize(32).isEqualTo(b);
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(ServerSecret.FILE_NAME))))
        .isEqualTo("rw-------");
    Files.writeString(dir.resolve(ServerSecret.FILE_NAME), "short");
    assertThatThrownBy(() -> ServerSecret.loadOrCreate(dir))
        .hasMessageContaining("refusing to continue");
  }

  @Test
  void credentialsComeFromBearerXApiKeyOrBasicAndMustAgree() {
    // why: clients differ in how they send keys, but two different keys is an attack or a bug
    assertThat(Identifier.credential(headers("Authorization", "Bearer abc"))).isEqualTo("abc");
    assertThat(Identifier.credential(headers("x-api-key", "abc"))).isEqualTo("abc");
    assertThat(Identifier.credential(headers("Authorization", "Basic " + b64("u:abc"))))
        .isEqualTo("abc");
    assertThat(Identifier.credential(headers("Authorization", "Basic " + b64("abc:"))))
        .isEqualTo("abc");
    assertThat(Identifier.credential(headers("Authorization", "Bearer abc", "x-api-key", "abc")))
        .isEqualTo("abc");
    assertThat(Identifier.credential(MultiMap.caseInsensitiveMultiMap())).isNull();
    assertThatThrownBy(
        () -> Identifier.credential(headers("Authorization", "Bearer abc", "x-api-key", "def")));
    assertThatThrownBy(() -> Identifier.credential(headers("Authorization", "Digest abc")));
    assertThatThrownBy(() -> Identifier.credential(headers("Authorization", "Basic !!!")));
    assertThatThrownBy(
        () ->
            Identifier.credential(
                headers("Authorization", "Bearer a", "Authorization", "Bearer b")));
  }

  private static MultiMap headers(String... kv) {
    MultiMap m = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < kv.length; i += 2) {
      m.add(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
