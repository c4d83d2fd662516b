package dev.gatehouse.abuse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.BanRecord;
import dev.gatehouse.testing.AccessLogCapture;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Bans end to end: earned by authentication failures, refused cheaply, escalating on repeat, ending
 * on time, kept across restarts, never applied to bans.never, and failing closed when the ban store
 * cannot answer. Each client is played from its own 127.0.0.0/8 address; nothing is exempt (the
 * fixture's loopback exemption is switched off), as in the product default.
 */
class BansTest {

  /** Fast bans: 3 failures in a minute, 1 s first ban doubling up to 4 s. */
  static Map<String, String> fast(String... more) {
    Map<String, String> m =
        new HashMap<>(
            Map.of(
                "bans.never", "",
                "bans.auth_failures", "3",
                "bans.auth_window", "1m",
                "bans.duration", "1s",
                "bans.max_duration", "4s"));
    for (int i = 0; i < more.length; i += 2) {
      m.put(more[i], more[i + 1]);
    }
    return m;
  }

  static String tags(String key) {
    return "GET /api/tags HTTP/1.1\r\nHost: gatehouse.test\r\nAuthorization: Bearer "
        + key
        + "\r\nConnection: close\r\n\r\n";
  }

  static final String WRONG = "gk_aaaaaaaaaaaa_" + "A".repeat(40);

  /** Fails authentication {@code n} times from {@code ip}, each answered 401. */
  static void fail(GatewayFixture gw, String ip, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      assertThat(gw.raw(tags(WRONG).replace("/api/tags", "/api/tags?try=" + i), ip).status())
          .isEqualTo(401);
    }
  }

  @Test
  void authFailuresBanAnAddressUntilTheBanEndsAndRepeatsEscalate() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(fast());
        AccessLogCapture abuse = new AccessLogCapture("gatehouse.abuse")) {
      String key = gw.newKey();
      fail(gw, "127.0.0.3", 3);
      // Held: even with a valid key, the connection is closed without an answer.
      RawResponse banned = gw.raw(tags(key), "127.0.0.3");
      assertThat(banned.status()).isEqualTo(-1);
      assertThat(banned.head()).isEmpty();
      assertThat(gw.upstream.requests()).isEmpty();
      assertThat(abuse.await("ban ip=127.0.0.3 ", "for=PT1S", "times=1", "auth failures"))
          .isNotNull();
      // Only that address: another client is served meanwhile.
      assertThat(gw.raw(tags(key), "127.0.0.4").status()).isEqualTo(200);
      // Released: the first ban lasts bans.duration (1 s).
      Thread.sleep(1200);
      assertThat(gw.raw(tags(key), "127.0.0.3").status()).isEqualTo(200);
      // A repeat offence doubles the ban: still refused after 1.2 s, served after 2.2 s.
      fail(gw, "127.0.0.3", 3);
      assertThat(abuse.await("ban ip=127.0.0.3 ", "for=PT2S", "times=2")).isNotNull();
      Thread.sleep(1200);
      gw.upstream.reset();
      assertThat(gw.raw(tags(key), "127.0.0.3").status()).isEqualTo(-1);
      assertThat(gw.upstream.requests()).isEmpty();
      Thread.sleep(1000);
      assertThat(gw.raw(tags(key), "127.0.0.3").status()).isEqualTo(200);
      BanRecord r = gw.store.findBan("127.0.0.3").orElseThrow();
      assertThat(r.times()).isEqualTo(2);
      assertThat(r.source()).isEqualTo("auto");
      assertThat(r.samplePaths()).contains("/api/tags");
    }
  }

  @Test
  void failuresSpreadBeyondTheWindowDoNotBan() throws Exception {
    // why: the window slides; slow, occasional mistakes by a real user never add up to a ban
    try (GatewayFixture gw = GatewayFixture.start(fast("bans.auth_window", "1s"))) {
      String key = gw.newKey();
      fail(gw, "127.0.0.5", 2);
      Thread.sleep(1100);
      fail(gw, "127.0.0.5", 2);
      assertThat(gw.raw(tags(key), "127.0.0.5").status()).isEqualTo(200);
      fail(gw, "127.0.0.5", 1); // now three within the window
      assertThat(gw.raw(tags(key), "127.0.0.5").status()).isEqualTo(-1);
    }
  }

  @Test
  void aBannedClientCanBeAnsweredWithAMinimal403Instead() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(fast("bans.refusal", "403"))) {
      String key = gw.newKey();
      fail(gw, "127.0.0.6", 3);
      RawResponse r = gw.raw(tags(key), "127.0.0.6");
      assertThat(r.status()).isEqualTo(403);
      assertThat(r.body())
          .contains("\"code\":\"network.client_banned\"")
          .contains("access denied")
          .doesNotContain("auth");
      RawResponse openai = gw.raw(tags(key).replace("/api/tags", "/v1/models"), "127.0.0.6");
      assertThat(openai.body()).contains("\"type\":\"permission_error\"");
      assertThat(gw.upstream.requests()).isEmpty();
    }
  }

  @Test
  void neverBanAddressesAreExemptAndOnlyThey() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(fast("bans.never", "127.0.0.7/32"));
        AccessLogCapture abuse = new AccessLogCapture("gatehouse.abuse")) {
      String key = gw.newKey();
      fail(gw, "127.0.0.7", 6);
      assertThat(gw.raw(tags(key), "127.0.0.7").status()).isEqualTo(200);
      assertThat(abuse.await("ban skipped ip=127.0.0.7", "bans.never")).isNotNull();
      fail(gw, "127.0.0.8", 3);
      assertThat(gw.raw(tags(key), "127.0.0.8").status()).isEqualTo(-1);
      assertThat(gw.store.findBan("127.0.0.7")).isEmpty();
    }
  }

  @Test
  void loopbackIsNotExemptByDefault() throws Exception {
    // why: the product default exempts nothing; with a shared proxy address that is a known
    // trade-off, documented rather than hidden by an exemption
    try (GatewayFixture gw = GatewayFixture.start(fast())) {
      String key = gw.newKey();
      fail(gw, "127.0.0.1", 3);
      assertThat(gw.raw(tags(key), "127.0.0.1").status()).isEqualTo(-1);
      // The automatic ban holds at once in memory and reaches the store a moment later; remove it
      // from the store once it is there, as an operator would.
      for (int i = 0; i < 200 && gw.store.findBan("127.0.0.1").isEmpty(); i++) {
        Thread.sleep(10);
      }
      assertThat(gw.store.removeBan("127.0.0.1")).isTrue();
      // The ban's writer drops its in-memory copy just after the store has the row, so a request
      // sent in that moment is still refused: the lifted ban must hold within a bounded wait (it
      // failed once in CI when asked at once)
      int status = -1;
      for (int i = 0; i < 100 && status != 200; i++) {
        status = gw.raw(tags(key), "127.0.0.1").status();
        if (status != 200) {
          Thread.sleep(20);
        }
      }
      assertThat(status).as("served once the ban is removed").isEqualTo(200);
    }
  }

  @Test
  void bansSurviveARestart() throws Exception {
    Map<String, String> settings = fast("bans.duration", "1h", "bans.max_duration", "24h");
    GatewayFixture first = GatewayFixture.start(settings);
    Path dataDir = first.dataDir;
    String key;
    try {
      key = first.newKey();
      fail(first, "127.0.0.9", 3);
      assertThat(first.raw(tags(key), "127.0.0.9").status()).isEqualTo(-1);
    } finally {
      first.close(); // stops the gateway; the ban was written to the data directory
    }
    try (GatewayFixture second = GatewayFixture.startIn(dataDir, settings)) {
      RawResponse r = second.raw(tags(key), "127.0.0.9");
      assertThat(r.status()).isEqualTo(-1);
      assertThat(second.upstream.requests()).isEmpty();
      assertThat(second.raw(tags(key), "127.0.0.10").status()).isEqualTo(200);
      // Released by hand (as `gatehouse bans remove` does), it is served on its next request.
      assertThat(second.store.removeBan("127.0.0.9")).isTrue();
      assertThat(second.raw(tags(key), "127.0.0.9").status()).isEqualTo(200);
    }
  }

  @Test
  void aBanStoreThatCannotAnswerRefusesWith503AndForwardsNothing() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(fast())) {
      String key = gw.newKey();
      assertThat(gw.raw(tags(key), "127.0.0.11").status()).isEqualTo(200);
      gw.upstream.reset();
      String db = "jdbc:sqlite:" + gw.dataDir.resolve("gatehouse.db");
      try (Connection c = DriverManager.getConnection(db);
          Statement st = c.createStatement()) {
        st.execute("ALTER TABLE ban_version RENAME TO ban_version_gone");
      }
      // Nobody announced this change (plain SQL): the gateway's timed store check finds it. Run
      // that check now instead of waiting up to a second for it.
      gw.checkStoresNow();
      RawResponse r = gw.raw(tags(key), "127.0.0.11");
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.body()).contains("\"code\":\"store.unavailable\"");
      RawResponse openai = gw.raw(tags(key).replace("/api/tags", "/v1/models"), "127.0.0.12");
      assertThat(openai.status()).isEqualTo(503);
      assertThat(gw.upstream.requests()).isEmpty();
      try (Connection c = DriverManager.getConnection(db);
          Statement st = c.createStatement()) {
        st.execute("ALTER TABLE ban_version_gone RENAME TO ban_version");
      }
      gw.checkStoresNow();
      assertThat(gw.raw(tags(key), "127.0.0.11").status()).isEqualTo(200);
      assertThat(gw.upstream.requests()).hasSize(1);
    }
  }

  @Test
  void aStoreThatStopsAnsweringIsNoticedByTheTimerWithinSecondsAndNothingIsForwarded()
      throws Exception {
    // why: a change nobody announces (the database edited by hand, the disk gone) must still
    // end in refusals, not in serving from a stale ban list forever
    try (GatewayFixture gw = GatewayFixture.start(fast())) {
      String key = gw.newKey();
      assertThat(gw.raw(tags(key), "127.0.0.13").status()).isEqualTo(200);
      gw.upstream.reset();
      String db = "jdbc:sqlite:" + gw.dataDir.resolve("gatehouse.db");
      try (Connection c = DriverManager.getConnection(db);
          Statement st = c.createStatement()) {
        st.execute("ALTER TABLE key_version RENAME TO key_version_gone");
      }
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
      int status = 0;
      while (System.nanoTime() < deadline && status != 503) {
        status =
            gw.raw(tags("gk_aaaaaaaaaaaa_wrong"), "127.0.0.14")
                .status(); // refused either way: 401, then 503
        Thread.sleep(20);
      }
      assertThat(status).isEqualTo(503);
      assertThat(gw.raw(tags(key), "127.0.0.13").status()).isEqualTo(503);
      assertThat(gw.upstream.requests()).isEmpty();
      try (Connection c = DriverManager.getConnection(db);
          Statement st = c.createStatement()) {
        st.execute("ALTER TABLE key_version_gone RENAME TO key_version");
      }
      deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
      while (System.nanoTime() < deadline && status != 200) {
        status =
            gw.raw(tags(key), "127.0.0.13").status(); // nothing is forwarded until it answers again
        Thread.sleep(20);
      }
      assertThat(status).isEqualTo(200); // recovery needs no restart
    }
  }
}
