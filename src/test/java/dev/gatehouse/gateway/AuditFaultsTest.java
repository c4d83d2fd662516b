package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.audit.AuditKey;
import dev.gatehouse.audit.AuditVerifier;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.testing.AccessLogCapture;
import dev.gatehouse.testing.ForwardingFileChannel;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Audit-disk faults against a real gateway: the disk under {@code audit.jsonl} full (a real small
 * tmpfs where this machine allows a mount, and an injected write fault through the writer's
 * file-opener seam everywhere), and the SQLite copy locked by another connection holding a write
 * lock. Each time: the request in flight when the fault hits is not served unaudited (aborted), new
 * requests get 503 {@code audit.unavailable} in their own dialect before anything is forwarded, the
 * gateway recovers by itself once the fault clears, and afterwards every request's record is in the
 * log and the chain verifies.
 */
class AuditFaultsTest {

  /** A full disk under audit.jsonl that a test can fill and free. */
  interface DiskFault extends AutoCloseable {
    void fill() throws IOException;

    void free() throws IOException;

    @Override
    void close() throws IOException;
  }

  static String get(String path, String key) {
    return "GET "
        + path
        + " HTTP/1.1\r\nHost: localhost\r\n"
        + (key == null ? "" : "Authorization: Bearer " + key + "\r\n")
        + "Connection: close\r\n\r\n";
  }

  static String post(String path, String key, String body) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: localhost\r\n"
        + (key == null ? "" : "Authorization: Bearer " + key + "\r\n")
        + "Content-Type: application/json\r\nContent-Length: "
        + body.length()
        + "\r\nConnection: close\r\n\r\n"
        + body;
  }

  static final String CHAT =
      "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}],\"stream\":false}";

  static String requestId(RawResponse r) {
    for (String line : r.head().split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("x-request-id:")) {
        return line.substring(13).trim();
      }
    }
    return null;
  }

  /** A tmpfs of 256 KiB mounted on a new directory; null when this machine allows no mount. */
  static Path mountTmpfs() throws Exception {
    Path dir = Files.createTempDirectory("gatehouse-tmpfs");
    Process p =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir.toString())
            .redirectErrorStream(true)
            .start();
    p.getInputStream().readAllBytes();
    if (p.waitFor() != 0) {
      Files.delete(dir);
      return null;
    }
    return dir;
  }

  /** The real thing: audit.jsonl is a symlink into a small tmpfs, filled by a ballast file. */
  static final class TmpfsFull implements DiskFault {
    final Path mount;
    final Path ballast;

    TmpfsFull(Path mount) {
      this.mount = mount;
      this.ballast = mount.resolve("ballast");
    }

    @Override
    public void fill() throws IOException {
      byte[] block = new byte[4096];
      try (OutputStream out = Files.newOutputStream(ballast)) {
        while (true) {
          out.write(block);
        }
      } catch (IOException full) {
        // ENOSPC: the disk is full now
      }
    }

    @Override
    public void free() throws IOException {
      Files.deleteIfExists(ballast);
    }

    @Override
    public void close() throws IOException {
      try {
        new ProcessBuilder("umount", mount.toString()).inheritIO().start().waitFor();
        Files.deleteIfExists(mount);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The fallback where no mount is allowed: writes and fsyncs fail as on a full disk. */
  static final class InjectedFull implements DiskFault {
    final AtomicBoolean full = new AtomicBoolean();

    AuditWriter.FileOpener opener() {
      return path ->
          new FaultyChannel(
              FileChannel.open(
                  path,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.WRITE,
                  StandardOpenOption.APPEND),
              full);
    }

    @Override
    public void fill() {
      full.set(true);
    }

    @Override
    public void free() {
      full.set(false);
    }

    @Override
    public void close() {}
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tmpfs", "injected"})
  void aFullAuditDiskFailsClosedAndRecoversByItself(String how) throws Exception {
    Path dataDir = Files.createTempDirectory("gatehouse-test");
    DiskFault fault;
    InjectedFull injected = null;
    if (how.equals("tmpfs")) {
      Path mount = mountTmpfs();
      Assumptions.assumeTrue(
          mount != null, "no tmpfs mount allowed here; the injected case covers it");
      Files.createSymbolicLink(dataDir.resolve(AuditWriter.FILE), mount.resolve(AuditWriter.FILE));
      fault = new TmpfsFull(mount);
    } else {
      fault = injected = new InjectedFull();
    }
    try (fault;
        GatewayFixture gw = GatewayFixture.start(Map.of(), dataDir, null, null);
        AccessLogCapture audit = new AccessLogCapture("gatehouse.audit")) {
      if (injected != null) {
        gw.audit().useFileOpener(injected.opener());
      }
      String key = gw.newKey();
      List<String> ids = new ArrayList<>();
      int sent = 0;
      RawResponse ok = gw.raw(get("/api/tags", key));
      sent++;
      assertThat(ok.status()).isEqualTo(200);
      ids.add(requestId(ok));

      fault.fill();
      // why: the request in flight when the disk fills cannot get its record: it is aborted,
      // never completed unaudited. (On a real file system the file's last page may still hold
      // a few records after the disk is full: those are served, with their records.)
      RawResponse inFlight = null;
      for (int i = 0; i < 40; i++) {
        inFlight = gw.raw(post("/api/chat", key, CHAT));
        sent++;
        if (inFlight.status() != 200) {
          break;
        }
        ids.add(requestId(inFlight));
      }
      assertThat(inFlight.status()).as("a complete response without its record").isEqualTo(-1);
      assertThat(audit.await("audit write failed")).isNotNull();
      int reached = gw.upstream.requests().size();

      // why: from then on nothing is served, in each dialect, with or without a key
      RawResponse ollama = gw.raw(get("/api/tags", key));
      RawResponse openai = gw.raw(post("/v1/chat/completions", key, CHAT));
      RawResponse keyless =
          gw.raw(post("/api/generate", null, "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\"}"));
      sent += 3;
      for (RawResponse r : List.of(ollama, openai, keyless)) {
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.head()).contains("Retry-After: 1");
        ids.add(requestId(r));
      }
      assertThat(ollama.body()).startsWith("{\"error\":").contains("audit.unavailable");
      assertThat(openai.body())
          .startsWith("{\"error\":{")
          .contains("\"code\":\"audit.unavailable\"")
          .contains("\"type\":\"server_error\"");
      assertThat(keyless.body()).startsWith("{\"error\":").contains("audit.unavailable");
      assertThat(gw.upstream.requests())
          .as("nothing forwarded while the audit log is down")
          .hasSize(reached);
      // why: a load balancer should stop sending traffic to a gateway that refuses it all
      RawResponse ready = gw.raw(get("/readyz", null));
      assertThat(ready.status()).isEqualTo(503);
      assertThat(ready.body()).isEqualTo("{\"status\":\"audit_unavailable\"}");
      sent++;
      ids.add(requestId(ready));

      fault.free();
      // why: recovery needs no restart: the writer retries its held records on a timer
      RawResponse again = null;
      for (int i = 0; i < 100; i++) {
        again = gw.raw(get("/api/tags", key));
        sent++;
        ids.add(requestId(again));
        if (again.status() == 200) {
          break;
        }
        Thread.sleep(50);
      }
      assertThat(again.status()).isEqualTo(200);
      assertThat(audit.await("audit writes succeed again")).isNotNull();

      // Nothing lost: every request has its record, the refusals and the aborted one included.
      Path file = dataDir.resolve(AuditWriter.FILE);
      List<String> lines = waitForLines(file, sent);
      assertThat(lines).hasSize(sent);
      for (String id : ids) {
        assertThat(lines)
            .as("the record of %s", id)
            .anyMatch(l -> l.contains("\"request_id\":\"" + id + "\""));
      }
      assertThat(lines)
          .filteredOn(l -> l.contains("\"reason\":\"audit.unavailable\""))
          .hasSizeGreaterThanOrEqualTo(3);
      gw.gateway().close(); // writes the final checkpoint
      var verified =
          AuditVerifier.verifyLog(
              dataDir,
              dataDir.resolve(AuditWriter.CHECKPOINTS),
              AuditKey.load(dataDir.resolve("audit-hmac.key")));
      assertThat(verified.ok()).as(verified.describe()).isTrue();
    }
  }

  @Test
  void aLockedAuditDatabaseFailsClosedPastItsLagBoundAndRecovers() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(Map.of("audit.db_max_lag", "1s"))) {
      String key = gw.newKey();
      assertThat(gw.raw(get("/api/tags", key)).status()).isEqualTo(200);
      List<String> ids = new ArrayList<>();
      int sent = 1;
      try (Connection locker =
              DriverManager.getConnection("jdbc:sqlite:" + gw.dataDir.resolve("gatehouse.db"));
          Statement st = locker.createStatement()) {
        st.execute("PRAGMA busy_timeout = 5000");
        st.execute("BEGIN EXCLUSIVE"); // the write lock, held by another connection (a stuck CLI, a
        // backup)
        // Served while the copy trails by less than audit.db_max_lag: the file is the record.
        RawResponse first = gw.raw(get("/api/tags", key));
        sent++;
        assertThat(first.status()).isEqualTo(200);
        ids.add(requestId(first));
        // why: past the bound the copy is too far behind to count as the queryable record
        RawResponse refused = null;
        for (int i = 0; i < 100; i++) {
          refused = gw.raw(get("/api/tags", key));
          sent++;
          ids.add(requestId(refused));
          if (refused.status() == 503) {
            break;
          }
          Thread.sleep(100);
        }
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.body()).startsWith("{\"error\":").contains("audit.unavailable");
        int reached = gw.upstream.requests().size();
        RawResponse openai = gw.raw(get("/v1/models", key));
        sent++;
        ids.add(requestId(openai));
        assertThat(openai.status()).isEqualTo(503);
        assertThat(openai.body()).contains("\"code\":\"audit.unavailable\"");
        assertThat(gw.upstream.requests())
            .as("nothing forwarded while the copy is locked")
            .hasSize(reached);
        st.execute("ROLLBACK");
      }
      RawResponse again = null;
      for (int i = 0; i < 200; i++) {
        again = gw.raw(get("/api/tags", key));
        sent++;
        ids.add(requestId(again));
        if (again.status() == 200) {
          break;
        }
        Thread.sleep(50);
      }
      assertThat(again.status()).as("recovered without a restart").isEqualTo(200);
      List<String> lines = waitForLines(gw.dataDir.resolve(AuditWriter.FILE), sent);
      assertThat(lines).hasSize(sent);
      for (String id : ids) {
        assertThat(lines).anyMatch(l -> l.contains("\"request_id\":\"" + id + "\""));
      }
      // The copy catches up with the file.
      long inDb = 0;
      for (int i = 0; i < 100 && inDb < sent; i++) {
        Thread.sleep(50);
        try (Connection c =
                DriverManager.getConnection("jdbc:sqlite:" + gw.dataDir.resolve("gatehouse.db"));
            Statement st = c.createStatement();
            var rs = st.executeQuery("SELECT count(*) FROM audit_log")) {
          inDb = rs.getLong(1);
        }
      }
      assertThat(inDb).isEqualTo(sent);
    }
  }

  static List<String> waitForLines(Path file, int n) throws Exception {
    List<String> lines = List.of();
    for (int i = 0; i < 100; i++) {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      if (lines.size() >= n) {
        break;
      }
      Thread.sleep(30);
    }
    return lines;
  }

  /**
   * A file channel whose writes and fsyncs fail with ENOSPC's message while {@code full} is set.
   */
  static final class FaultyChannel extends ForwardingFileChannel {
    private final AtomicBoolean full;

    FaultyChannel(FileChannel d, AtomicBoolean full) {
      super(d);
      this.full = full;
    }

    @Override
    protected void beforeWrite() throws IOException {
      if (full.get()) {
        throw new IOException("No space left on device");
      }
    }

    @Override
    public void force(boolean metaData) throws IOException {
      beforeWrite();
      super.force(metaData);
    }
  }
}
