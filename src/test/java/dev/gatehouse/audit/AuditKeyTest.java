package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditKeyTest {

  @TempDir Path dir;

  @RepeatedTest(20)
  void startsAtTheSameMomentAgreeOnOneWholeKey() throws Exception {
    // why: two gateways on one data directory started together; one read the key file between
    // its creation and its write, found it empty and refused to start (seen in bench/run.sh)
    Path file = dir.resolve("audit-hmac.key");
    int n = 8;
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<byte[]>> keys = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        keys.add(
            pool.submit(
                () -> {
                  go.await();
                  return AuditKey.loadOrCreate(file);
                }));
      }
      go.countDown();
      String first = HexFormat.of().formatHex(keys.get(0).get());
      for (Future<byte[]> k : keys) {
        assertThat(HexFormat.of().formatHex(k.get())).isEqualTo(first).hasSize(64);
      }
    } finally {
      pool.shutdownNow();
    }
    try (var left = Files.list(dir)) {
      assertThat(left).containsExactly(file); // no temporary file left behind
    }
    Files.delete(file);
  }

  @Test
  void theKeyFileIsOwnerOnly() throws Exception {
    Path file = dir.resolve("k/audit-hmac.key");
    byte[] key = AuditKey.loadOrCreate(file);
    assertThat(key).hasSize(32);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(AuditKey.loadOrCreate(file)).isEqualTo(key);
  }
}
