package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** The writer's fast path builds the same bytes and hash as the verifier's canonical form. */
class AuditChainTest {

  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aLineBuiltFromCanonicalBytesEqualsTheRecordSerialisedWithItsHash() throws Exception {
    AuditRecord r =
        new AuditRecord(
            "2026-11-22T10:00:00.000Z",
            "abc",
            "2001:db8::1",
            null,
            "naïve \"key\" ✓",
            "POST",
            "/api/chat",
            "inference",
            "llama3.2:3b",
            200,
            "allow",
            "ok",
            10,
            20,
            -1,
            5,
            100,
            200,
            300,
            "ua/1 \u0001",
            false,
            "e3b0c442",
            "a prompt with\nnewlines");
    String prev = AuditChain.GENESIS;
    byte[] canonical = r.canonicalJson(7, prev);
    assertThat(canonical)
        .isEqualTo(
            JSON.writeValueAsBytes(JSON.readTree(canonical))); // already in Jackson's own form
    String h = AuditChain.hash(prev, canonical);
    String line = AuditChain.line(canonical, h);

    ObjectNode slow = r.toJson(JSON, 7, prev);
    assertThat(h).isEqualTo(AuditChain.hash(prev, slow));
    slow.put("hash", h);
    assertThat(line).isEqualTo(JSON.writeValueAsString(slow));
    // and what the verifier recomputes from the line as read back
    assertThat(AuditChain.hash(prev, JSON.readTree(line))).isEqualTo(h);
  }
}
