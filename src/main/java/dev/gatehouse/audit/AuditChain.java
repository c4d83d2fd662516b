package dev.gatehouse.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The audit log's hash chain. A record's hash is SHA-256 over the previous record's hash (hex)
 * followed by the record's canonical JSON without its {@code hash} field; the canonical JSON
 * already carries {@code seq} and {@code prev}. Checkpoints sign {@code seq:hash} with HMAC-SHA256,
 * pruning anchors {@code pruned:seq:hash}. Stateless and thread-safe. The writer does not call
 * these per record: {@link AuditLines} writes the same bytes in one buffer; the verifier and the
 * tests use them, and {@code AuditLinesTest} holds the two to the same output.
 */
public final class AuditChain {

  /** The {@code prev} of the first record. */
  public static final String GENESIS = "0".repeat(64);

  private static final ObjectMapper JSON = new ObjectMapper();

  private AuditChain() {}

  /**
   * The canonical bytes the hash covers: the record's JSON with any {@code hash} field left out.
   */
  public static byte[] canonical(JsonNode record) {
    ObjectNode copy = record.deepCopy();
    copy.remove("hash");
    try {
      return JSON.writeValueAsBytes(copy);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The hash a record should carry, given the previous record's hash. */
  public static String hash(String prev, JsonNode record) {
    return hash(prev, canonical(record));
  }

  /** The hash of a record whose canonical bytes (its JSON without {@code hash}) are given. */
  public static String hash(String prev, byte[] canonical) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(prev.getBytes(StandardCharsets.US_ASCII));
      d.update(canonical);
      return HexFormat.of().formatHex(d.digest());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The log line of a record: its canonical JSON object with {@code "hash"} added as the last
   * field, exactly as serialising the record with the field appended would give.
   */
  public static String line(byte[] canonical, String hash) {
    if (canonical.length < 2 || canonical[canonical.length - 1] != '}') {
      throw new IllegalArgumentException("not a JSON object");
    }
    return new String(canonical, 0, canonical.length - 1, StandardCharsets.UTF_8)
        + ",\"hash\":\""
        + hash
        + "\"}";
  }

  /** The HMAC a checkpoint at {@code seq} with record hash {@code hash} carries. */
  public static String checkpointMac(byte[] key, long seq, String hash) {
    return mac(key, seq + ":" + hash);
  }

  /**
   * The HMAC a pruning anchor carries: it says that records 1 to {@code seq} were removed on
   * purpose, and that the record at {@code seq} had hash {@code hash}. The message differs from a
   * checkpoint's, so that one cannot be passed off as the other.
   */
  public static String anchorMac(byte[] key, long seq, String hash) {
    return mac(key, "pruned:" + seq + ":" + hash);
  }

  private static String mac(byte[] key, String message) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(message.getBytes(StandardCharsets.US_ASCII));
      return HexFormat.of().formatHex(mac.doFinal());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
