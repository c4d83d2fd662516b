package dev.gatehouse.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import dev.gatehouse.store.AuditStore;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The audit writer's encoder: chains a batch of records and writes their log lines into one buffer
 * it keeps, each record's bytes written once. One JSON generator writes every record's canonical
 * JSON ({@link AuditRecord#writeCanonical}) into that buffer, one SHA-256 digest hashes it where it
 * lies, and the {@code hash} field is added in place of the closing brace: the same bytes as {@link
 * AuditChain#canonical}, {@link AuditChain#hash} and {@link AuditChain#line} give, without a copy,
 * a hex string or a digest per record. One per writer; the writer thread's, not thread-safe.
 */
final class AuditLines {

  /** Records follow each other with nothing between them (the default would put a space). */
  private static final JsonFactory FACTORY =
      new JsonFactoryBuilder().rootValueSeparator((SerializableString) null).build();

  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HASH_FIELD = ",\"hash\":\"".getBytes(StandardCharsets.US_ASCII);

  /** A buffer grown past this by a large batch is let go rather than kept. */
  private static final int KEEP_BYTES = 1 << 20;

  private final Buffer out = new Buffer();
  private final MessageDigest sha;
  private final byte[] digest = new byte[32];
  private final byte[] hash = new byte[64]; // the last record's hash, as lowercase hex

  /** Null after a failure, which may have left it inside an object: made again for the next. */
  private @Nullable JsonGenerator g;

  AuditLines() {
    try {
      this.sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // every JDK has SHA-256
    }
  }

  /**
   * Chains {@code records} onto {@code head} and writes their lines, each ending in a newline, to
   * the buffer ({@link #bytes}, {@link #length}), replacing what it held; adds one database row per
   * record to {@code rows}. {@code head} moves on only once all are written: after an exception it
   * is as it was (rows may have been added, and the buffer holds a part).
   *
   * @param at where in the file the buffer will be written, so that each row says where its line is
   *     ({@link AuditStore.AuditRow#lineAt}); -1: rows that do not say
   */
  void chain(List<AuditRecord> records, ChainHead head, List<AuditStore.AuditRow> rows, long at)
      throws IOException {
    out.reset();
    JsonGenerator gen = g;
    if (gen == null) {
      gen = FACTORY.createGenerator(out);
    }
    g = null; // until the batch is written whole
    long seq = head.seq;
    String prev = head.hash;
    byte[] prevBytes = prev.getBytes(StandardCharsets.US_ASCII);
    for (AuditRecord r : records) {
      seq++;
      int start = out.count;
      r.writeCanonical(gen, seq, prev);
      gen.flush();
      int end = out.count;
      if (end - start < 2 || out.buf[end - 1] != '}') {
        throw new IllegalStateException("not a JSON object");
      }
      // The chain: SHA-256 over the previous hash (hex) and the canonical bytes, where they lie.
      sha.update(prevBytes);
      sha.update(out.buf, start, end - start);
      try {
        sha.digest(digest, 0, digest.length);
      } catch (DigestException e) {
        throw new IllegalStateException(e);
      }
      for (int i = 0; i < digest.length; i++) {
        hash[2 * i] = HEX[(digest[i] >> 4) & 0xf];
        hash[2 * i + 1] = HEX[digest[i] & 0xf];
      }
      // The line: the canonical object with "hash" as its last field (see AuditChain.line).
      out.count = end - 1;
      out.write(HASH_FIELD, 0, HASH_FIELD.length);
      out.write(hash, 0, hash.length);
      out.write('"');
      out.write('}');
      String line = new String(out.buf, start, out.count - start, StandardCharsets.UTF_8);
      out.write('\n');
      prevBytes = hash;
      prev = new String(hash, StandardCharsets.ISO_8859_1);
      rows.add(
          new AuditStore.AuditRow(
              seq,
              r.time(),
              r.requestId(),
              r.ip(),
              r.keyId(),
              r.status(),
              r.reason(),
              line,
              at < 0 ? -1 : at + start,
              r.model(),
              r.tokensIn(),
              r.tokensOut()));
    }
    g = gen;
    head.seq = seq;
    head.hash = prev;
  }

  /** The buffer the last {@link #chain} wrote; valid until the next. */
  byte[] bytes() {
    return out.buf;
  }

  /** How many bytes of {@link #bytes} the last {@link #chain} wrote. */
  int length() {
    return out.count;
  }

  /** A growable byte buffer, without the locks of {@code ByteArrayOutputStream}. */
  private static final class Buffer extends OutputStream {
    byte[] buf = new byte[16 * 1024];
    int count;

    void reset() {
      count = 0;
      if (buf.length > KEEP_BYTES) {
        buf = new byte[16 * 1024];
      }
    }

    @Override
    public void write(int b) {
      grow(1);
      buf[count++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      grow(len);
      System.arraycopy(b, off, buf, count, len);
      count += len;
    }

    private void grow(int n) {
      int need = Math.addExact(count, n);
      if (need > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(need, buf.length < (1 << 29) ? buf.length * 2 : need));
      }
    }
  }
}
