package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.exchange.LimitsUnavailableException;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.store.UsageLedger;
import dev.gatehouse.testing.RedisProcess;
import dev.gatehouse.testing.TestCa;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Redis shapes docs/limits-redis.md promises, each against real servers this test starts: a
 * master behind a Sentinel, a TLS-only server checked against {@code redis.tls_ca} and by name, an
 * ACL user with its password, and a three-master Cluster. Each works for a rate and, where the
 * shape changes how keys are placed (Cluster), for every script; each wrong setting (master name,
 * CA, host name, password) fails closed as {@code limits.unavailable}.
 */
class RedisTopologiesTest {

  private static Vertx vertx;
  @TempDir static Path dir;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  private static GatehouseConfig.SharedLimits config(
      String url,
      String mode,
      List<String> endpoints,
      String master,
      String user,
      @Nullable Path password,
      @Nullable Path ca) {
    // a generous timeout: this machine is shared; the failures below are refusals, not timeouts
    return new GatehouseConfig.SharedLimits(
        true,
        url,
        mode,
        endpoints,
        master,
        user,
        password,
        ca,
        Duration.ofSeconds(2),
        RedisTesting.prefix());
  }

  /** A link to {@code config}, started; with {@code works} its start must succeed. */
  private static RedisLink link(GatehouseConfig.SharedLimits config, boolean works)
      throws Exception {
    RedisLink l = RedisLink.open(vertx, config);
    Future<Void> started = l.start(SharedLimits.SCRIPTS);
    try {
      started.await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      if (works) {
        throw new AssertionError("the link did not start: " + e.getMessage(), e);
      }
    }
    return l;
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Three takes of a burst of three pass, the fourth is refused with a wait. */
  private static void burstHolds(RedisLink link) throws Exception {
    RateLimiter rates = new RedisRateLimiter(link);
    for (int i = 0; i < 3; i++) {
      assertThat(get(rates.take("key:k1", 60, 3)).allowed()).as("take %d", i).isTrue();
    }
    RateLimiter.Take refused = get(rates.take("key:k1", 60, 3));
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.retryAfterNanos()).isPositive();
  }

  /**
   * A message published through a link reaches that link's subscriber connection (a ban
   * announcement and a freed slot travel so), which the pool does not manage: it connects on its
   * own.
   */
  private static void pubSubWorks(GatehouseConfig.SharedLimits config) throws Exception {
    BlockingQueue<String> got = new LinkedBlockingQueue<>();
    RedisLink l = RedisLink.open(vertx, config);
    l.subscribe("topology", got::add);
    l.start(SharedLimits.SCRIPTS).await(10, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String message = null;
    while (message == null && System.nanoTime() < deadline) {
      get(l.publish("topology", "hello")); // lost until the subscription is made: sent again
      message = got.poll(100, TimeUnit.MILLISECONDS);
    }
    assertThat(message).as("the subscriber heard the message").isEqualTo("hello");
    l.close();
  }

  /** A take on {@code link} fails as a limits outage, and the link says it is down. */
  private static void failsClosed(RedisLink link) throws Exception {
    Future<RateLimiter.Take> take = new RedisRateLimiter(link).take("key:k1", 60, 3);
    try {
      get(take);
      throw new AssertionError("a take succeeded on a link that should refuse");
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(LimitsUnavailableException.class);
    }
    assertThat(link.up()).isFalse();
    link.close();
  }

  @Test
  void aMasterBehindASentinelServesTheLimitsAndAnUnknownMasterNameFailsClosed() throws Exception {
    int masterPort = RedisProcess.freePort();
    int sentinelPort = RedisProcess.freePort();
    try (RedisProcess master = RedisProcess.start(masterPort, false, List.of());
        RedisProcess sentinel =
            RedisProcess.start(
                sentinelPort,
                true,
                List.of(
                    "sentinel monitor gh 127.0.0.1 " + masterPort + " 1",
                    "sentinel down-after-milliseconds gh 60000"))) {
      List<String> sentinels = List.of("redis://127.0.0.1:" + sentinel.port());
      RedisLink link = link(config("", "sentinel", sentinels, "gh", "", null, null), true);
      burstHolds(link);
      link.close();
      pubSubWorks(config("", "sentinel", sentinels, "gh", "", null, null));
      assertThat(master.port()).isEqualTo(masterPort);
      // why: a name the Sentinels do not know gives no master; guessing one would be worse
      failsClosed(link(config("", "sentinel", sentinels, "nosuch", "", null, null), false));
    }
  }

  @Test
  void aTlsServerIsUsedOnlyWhenItsCertificateChainsToTheConfiguredCaAndNamesTheHost()
      throws Exception {
    Path tls = Files.createDirectories(dir.resolve("tls"));
    TestCa issuer = new TestCa("ca");
    Path ca = TestCa.pem(tls.resolve("ca.pem"), issuer.cert);
    Path otherCa = TestCa.pem(tls.resolve("other.pem"), new TestCa("other").cert);
    Path good = server(tls, "good", issuer, List.of("ip:127.0.0.1", "dns:localhost"));
    Path wrongName = server(tls, "wrong", issuer, List.of("dns:elsewhere.example"));
    try (RedisProcess server = tlsServer(good, ca);
        RedisProcess misnamed = tlsServer(wrongName, ca)) {
      String url = "rediss://127.0.0.1:" + server.port();
      RedisLink link = link(config(url, "standalone", List.of(), "", "", null, ca), true);
      burstHolds(link);
      link.close();
      pubSubWorks(config(url, "standalone", List.of(), "", "", null, ca));
      // why: TLS that trusts any certificate stops no one in the middle
      failsClosed(link(config(url, "standalone", List.of(), "", "", null, otherCa), false));
      failsClosed(
          link(
              config(
                  "rediss://127.0.0.1:" + misnamed.port(),
                  "standalone",
                  List.of(),
                  "",
                  "",
                  null,
                  ca),
              false));
    }
  }

  private static RedisProcess tlsServer(Path certAndKey, Path ca) throws Exception {
    String base = certAndKey.toString();
    return RedisProcess.start(
        0,
        false,
        List.of(
            "tls-port " + RedisProcess.freePort(),
            "tls-cert-file " + base + ".pem",
            "tls-key-file " + base + ".key",
            "tls-ca-cert-file " + ca,
            "tls-auth-clients no"));
  }

  @Test
  void anAclUserWithItsPasswordServesTheLimitsAndAWrongPasswordFailsClosed() throws Exception {
    Path right = Files.writeString(dir.resolve("acl-right"), "s3cret-pass\n");
    Path wrong = Files.writeString(dir.resolve("acl-wrong"), "not-it\n");
    try (RedisProcess server =
        RedisProcess.start(
            RedisProcess.freePort(),
            false,
            // the default user is off: only the named user's password opens it
            List.of("user default off", "user gh on >s3cret-pass ~* &* +@all"))) {
      String url = "redis://127.0.0.1:" + server.port();
      RedisLink link = link(config(url, "standalone", List.of(), "", "gh", right, null), true);
      burstHolds(link);
      link.close();
      pubSubWorks(config(url, "standalone", List.of(), "", "gh", right, null));
      failsClosed(link(config(url, "standalone", List.of(), "", "gh", wrong, null), false));
      failsClosed(link(config(url, "standalone", List.of(), "", "nobody", right, null), false));
    }
  }

  @Test
  void aThreeMasterClusterRunsEveryScriptWithoutCrossingSlots() throws Exception {
    List<RedisProcess> nodes = new ArrayList<>();
    try {
      List<String> endpoints = new ArrayList<>();
      List<String> create = new ArrayList<>(List.of("--cluster", "create"));
      for (int i = 0; i < 3; i++) {
        RedisProcess n =
            RedisProcess.start(
                RedisProcess.freePort(),
                false,
                List.of(
                    "cluster-enabled yes",
                    "cluster-config-file nodes.conf",
                    "cluster-port " + RedisProcess.freePort(),
                    "cluster-node-timeout 5000"));
        nodes.add(n);
        endpoints.add("redis://127.0.0.1:" + n.port());
        create.add("127.0.0.1:" + n.port());
      }
      create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
      RedisProcess.cli(create.toArray(String[]::new));
      for (RedisProcess n : nodes) {
        awaitClusterOk(n.port());
      }
      RedisLink link = link(config("", "cluster", endpoints, "", "", null, null), true);
      burstHolds(link);
      // why: the two budget keys share {key id}, the concurrency sets {conc}; a script whose keys
      // hashed to two slots would fail with CROSSSLOT on a real cluster
      RedisUsageLedger ledger = new RedisUsageLedger(vertx, link, Clock.systemUTC());
      assertThat(get(ledger.charge("k1", 7))).isEqualTo(new UsageLedger.Totals(7, 7));
      assertThat(get(ledger.used("k1"))).isEqualTo(new UsageLedger.Totals(7, 7));
      RedisConcurrencyGate gate = new RedisConcurrencyGate(vertx, link, 10, 0, 1_000);
      ConcurrencyGate.Slot slot = gate.acquire("k1", 1);
      assertThat(get(slot.granted())).isNull();
      assertThat(get(gate.acquire("k1", 1).granted())).isEqualTo(Problem.KEY_CONCURRENCY);
      slot.release();
      ConcurrencyGate.Slot again = waitForSlot(gate);
      assertThat(get(again.granted())).as("a freed slot can be taken again").isNull();
      again.release();
      RedisAbuseCounts counts = new RedisAbuseCounts(link);
      IpAddress ip = java.util.Objects.requireNonNull(IpAddress.parse("192.0.2.7"));
      assertThat(get(counts.authFailure(ip, 2, 60_000))).isFalse();
      assertThat(get(counts.authFailure(ip, 2, 60_000))).as("the second of two bans").isTrue();
      link.close();
      pubSubWorks(config("", "cluster", endpoints, "", "", null, null));
    } finally {
      for (RedisProcess n : nodes) {
        n.close();
      }
    }
  }

  private static ConcurrencyGate.Slot waitForSlot(RedisConcurrencyGate gate) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      ConcurrencyGate.Slot s = gate.acquire("k1", 1);
      if (get(s.granted()) == null || System.nanoTime() > deadline) {
        return s;
      }
      Thread.sleep(50);
    }
  }

  private static void awaitClusterOk(int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    String info;
    do {
      info = RedisProcess.cli("-p", String.valueOf(port), "cluster", "info");
      if (info.contains("cluster_state:ok")) {
        return;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("cluster not ok on " + port + ": " + info);
  }

  /**
   * A server certificate from {@code issuer} naming {@code sans}, written as {@code name.pem} and
   * {@code name.key} in {@code dir}; the path without extension.
   */
  private static Path server(Path dir, String name, TestCa issuer, List<String> sans)
      throws Exception {
    TestCa.Issued cert = issuer.issueServer("CN=" + name, sans, Duration.ofDays(2));
    TestCa.pem(dir.resolve(name + ".pem"), cert.cert());
    TestCa.pem(dir.resolve(name + ".key"), cert.key());
    return dir.resolve(name);
  }
}
