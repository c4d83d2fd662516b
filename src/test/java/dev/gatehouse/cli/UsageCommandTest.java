package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.GatewayFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UsageCommandTest {

  @Test
  void usageReportsRealTokenCountsPerKeyAndModel() throws Exception {
    // why: operators need to see who spent what, from the model server's own figures
    Path dir = Files.createTempDirectory("gh-usage-cli");
    String id;
    try (GatewayFixture gw = GatewayFixture.start(Map.of(), dir, null, null)) {
      CliRun created =
          CliRun.run(
              Map.of("GATEHOUSE_HOME", dir.toString()),
              "keys",
              "create",
              "--name",
              "meter",
              "--tpd",
              "1000",
              "--json");
      JsonNode k = new ObjectMapper().readTree(created.out());
      id = k.get("id").asText();
      assertThat(k.at("/limits/tokens_per_day").asLong()).isEqualTo(1000);
      String key = k.get("key").asText();
      gw.post("/api/chat", key, "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[]}");
      gw.post(
          "/api/chat",
          key,
          "{\"model\":\"llama3.2:3b\",\"messages\":[]}"); // streamed: 5 chunks, then real counts
      gw.post("/v1/chat/completions", key, "{\"model\":\"qwen2.5:7b\",\"messages\":[]}");
    } // closing flushes what is queued
    CliRun r = CliRun.run(Map.of("GATEHOUSE_HOME", dir.toString()), "usage", "--key", id, "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode rows = new ObjectMapper().readTree(r.out());
    assertThat(rows).hasSize(2);
    JsonNode llama =
        rows.get(0).get("model").asText().equals("llama3.2:3b") ? rows.get(0) : rows.get(1);
    assertThat(llama.get("requests").asLong()).isEqualTo(2);
    assertThat(llama.get("tokens_in").asLong()).isEqualTo(14);
    assertThat(llama.get("tokens_out").asLong()).isEqualTo(10);
    CliRun text = CliRun.run(Map.of("GATEHOUSE_HOME", dir.toString()), "usage");
    assertThat(text.out()).contains("llama3.2:3b").contains("qwen2.5:7b").contains("total");
    assertThat(
            CliRun.run(
                    Map.of("GATEHOUSE_HOME", dir.toString()), "usage", "--since", "yesterday-ish")
                .code())
        .isEqualTo(2);
  }
}
