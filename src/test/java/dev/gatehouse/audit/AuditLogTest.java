package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.GatewayFixture;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One audit record per request, refusals included, on disk by the time the client has the whole
 * response; with the fields, and without key material or prompt text.
 */
class AuditLogTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The record of a request id, read from the file right after its response arrived. */
  private static JsonNode recordOf(GatewayFixture gw, HttpResponse<String> r) throws Exception {
    String id = r.headers().firstValue("X-Request-Id").orElseThrow();
    for (String line : Files.readAllLines(gw.dataDir.resolve(AuditWriter.FILE))) {
      JsonNode n = JSON.readTree(line);
      if (n.path("request_id").asText().equals(id)) {
        return n;
      }
    }
    throw new AssertionError("no audit record for " + id + " when its response had arrived");
  }

  @Test
  void everyRequestHasADurableRecordBeforeItsResponseEnds() throws Exception {
    String key;
    Path dataDir;
    String prompt = "the secret plans are in the blue folder";
    try (GatewayFixture gw = GatewayFixture.start(Map.of())) {
      dataDir = gw.dataDir;
      key = gw.newKey();
      HttpResponse<String> ok =
          gw.post(
              "/api/chat",
              key,
              "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\""
                  + prompt
                  + "\"}]}");
      assertThat(ok.statusCode()).isEqualTo(200);
      JsonNode a = recordOf(gw, ok);
      assertThat(a.path("status").asInt()).isEqualTo(200);
      assertThat(a.path("decision").asText()).isEqualTo("allow");
      assertThat(a.path("reason").asText()).isEqualTo("ok");
      assertThat(a.path("method").asText()).isEqualTo("POST");
      assertThat(a.path("path").asText()).isEqualTo("/api/chat");
      assertThat(a.path("op").asText()).isEqualTo("inference");
      assertThat(a.path("model").asText()).isEqualTo("llama3.2:3b");
      assertThat(a.path("ip").asText()).isEqualTo("127.0.0.1");
      assertThat(a.path("key_id").asText()).isNotEmpty();
      assertThat(a.has("key_name")).isTrue();
      assertThat(a.path("bytes_in").asLong()).isPositive();
      assertThat(a.path("bytes_out").asLong()).isEqualTo(ok.body().length());
      assertThat(a.path("tokens_out").asLong()).isPositive();
      assertThat(a.path("ttfb_us").asLong()).isPositive();
      assertThat(a.path("upstream_us").asLong()).isPositive();
      assertThat(a.path("total_us").asLong())
          .isGreaterThanOrEqualTo(a.path("upstream_us").asLong());
      assertThat(a.path("user_agent").asText()).isNotEmpty();
      assertThat(a.path("hash").asText()).hasSize(64);

      HttpResponse<String> anonymous = gw.get("/api/tags", null);
      assertThat(anonymous.statusCode()).isEqualTo(401);
      JsonNode b = recordOf(gw, anonymous);
      assertThat(b.path("decision").asText()).isEqualTo("deny");
      assertThat(b.path("reason").asText()).isEqualTo("auth.key_invalid");
      assertThat(b.path("key_id").isNull()).isTrue();

      HttpResponse<String> badKey = gw.get("/api/tags", "gk_notarealkeynotarealkeynotarealkey");
      assertThat(recordOf(gw, badKey).path("status").asInt()).isEqualTo(401);

      HttpResponse<String> unknown = gw.get("/api/nope", key);
      assertThat(recordOf(gw, unknown).path("reason").asText())
          .isEqualTo("policy.endpoint_unknown");

      HttpResponse<String> health = gw.get("/healthz", null);
      assertThat(recordOf(gw, health).path("status").asInt()).isEqualTo(200);
      assertThat(gw.audit().written()).isGreaterThanOrEqualTo(5);
    }
    String log = Files.readString(dataDir.resolve(AuditWriter.FILE));
    assertThat(log).doesNotContain(key).doesNotContain("gk_notarealkey").doesNotContain(prompt);
    AuditVerifier.Result r =
        AuditVerifier.verifyLog(
            dataDir,
            dataDir.resolve(AuditWriter.CHECKPOINTS),
            AuditKey.load(dataDir.resolve("audit-hmac.key")));
    assertThat(r.ok()).as(r.describe()).isTrue();
    assertThat(r.lastCheckpointSeq()).as("close signs a final checkpoint").isEqualTo(r.lastSeq());
  }

  @Test
  void inBatchModeResponsesDoNotWaitAndRecordsFollowInTheNextBatch() throws Exception {
    // why: audit.durability: batch trades the last batch on a crash for no fsync on the request
    // path
    try (GatewayFixture gw = GatewayFixture.start(Map.of("audit.durability", "batch"))) {
      HttpResponse<String> ok =
          gw.post(
              "/api/chat",
              gw.newKey(),
              "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[]}");
      assertThat(ok.statusCode()).isEqualTo(200);
      JsonNode record = null;
      for (int i = 0; i < 100 && record == null; i++) {
        try {
          record = recordOf(gw, ok);
        } catch (AssertionError notYet) {
          Thread.sleep(20);
        }
      }
      assertThat(record).as("written by the next batch").isNotNull();
      assertThat(record.path("status").asInt()).isEqualTo(200);
    }
  }
}
