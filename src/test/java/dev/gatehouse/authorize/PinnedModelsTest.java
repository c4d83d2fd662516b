package dev.gatehouse.authorize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.pins.ModelPins;
import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayFixture;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** models.pinned: a pinned model runs only while the upstream lists it with the pinned digest. */
class PinnedModelsTest {

  private static long chats(GatewayFixture gw) {
    return gw.upstream.requests().stream().filter(r -> r.uri().equals("/api/chat")).count();
  }

  private static String chat(String model) {
    return "{\"model\":\"" + model + "\",\"stream\":false,\"messages\":[]}";
  }

  @Test
  void pinnedModelsRunOnlyWithTheirPinnedDigest() throws Exception {
    // why: a re-pulled or poisoned model has another digest and must not serve requests
    Path lock = Files.createTempFile("pins", ".json");
    StringBuilder drift = new StringBuilder();
    Logger models = Logger.getLogger("gatehouse.models");
    Handler h =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            synchronized (drift) {
              drift.append(r.getMessage()).append('\n');
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    models.addHandler(h);
    try (FakeUpstream digests = new FakeUpstream()) {
      ModelPins.of(
              Map.of(
                  "llama3.2:3b", "sha256:" + digests.digestOf("llama3.2:3b"),
                  "qwen2.5:7b", "sha256:" + "f".repeat(64),
                  "phi4:14b", "sha256:" + "e".repeat(64)))
          .write(lock);
      try (GatewayFixture gw =
          GatewayFixture.start(
              Map.of("models.pinned", lock.toString(), "models.pin_refresh", "100ms"))) {
        String key = gw.newKey();
        assertThat(gw.post("/api/chat", key, chat("llama3.2:3b")).statusCode()).isEqualTo(200);
        assertThat(gw.post("/api/chat", key, chat("phi3:latest")).statusCode())
            .as("not pinned: not affected")
            .isEqualTo(200);
        HttpResponse<String> drifted = gw.post("/api/chat", key, chat("qwen2.5:7b"));
        assertThat(drifted.statusCode()).isEqualTo(403);
        assertThat(drifted.body()).contains("\"code\":\"policy.model_pin_mismatch\"");
        HttpResponse<String> missing =
            gw.post("/v1/chat/completions", key, "{\"model\":\"phi4:14b\",\"messages\":[]}");
        assertThat(missing.statusCode()).isEqualTo(403);
        assertThat(missing.body()).contains("\"code\":\"policy.model_pin_unverified\"");
        assertThat(chats(gw)).isEqualTo(2);

        // The model is replaced upstream: the next request after the refresh window is refused.
        gw.upstream.setDigest("llama3.2:3b", "d".repeat(64));
        Thread.sleep(150);
        HttpResponse<String> replaced = gw.post("/api/chat", key, chat("LLAMA3.2:3b"));
        assertThat(replaced.statusCode()).isEqualTo(403);
        assertThat(chats(gw)).isEqualTo(2);
        synchronized (drift) {
          assertThat(drift.toString())
              .contains(
                  "event=models.digest_drift model=LLAMA3.2:3b pinned=sha256:"
                      + digests.digestOf("llama3.2:3b"));
        }
      }
    } finally {
      models.removeHandler(h);
    }
  }

  @Test
  void whenDigestsCannotBeReadAPinnedModelIsRefused() throws Exception {
    // why: fail closed: an unverifiable model is not run
    Path lock = Files.createTempFile("pins", ".json");
    ModelPins.of(Map.of("llama3.2:3b", "sha256:" + "a".repeat(64))).write(lock);
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of("models.pinned", lock.toString(), "upstream", "http://127.0.0.1:9"))) {
      HttpResponse<String> r = gw.post("/api/chat", gw.newKey(), chat("llama3.2:3b"));
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).contains("\"code\":\"policy.pin_check_unavailable\"");
    }
  }

  @Test
  void aBrokenLockFileIsAConfigurationError() throws Exception {
    // why: a pin file that cannot be read must stop the start, not silently disable pinning
    Path lock = Files.createTempFile("pins", ".json");
    Files.writeString(lock, "{\"models\":{}}");
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    null,
                    false,
                    Map.of(),
                    Map.of("models.pinned", lock.toString()),
                    ConfigChecks.ALL))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("models.pinned: " + lock);
  }
}
