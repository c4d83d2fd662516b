package dev.gatehouse.admin.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

/** The session lifetimes, the login limit's window, and the Host list's syntax, on a test clock. */
class SessionsAndLimitsTest {

  static final Instant T = Instant.parse("2026-05-01T10:00:00Z");

  @Test
  void aSessionEndsAfterThirtyIdleMinutesOrTwelveHours() {
    // why: a dashboard left open must not stay logged in for ever
    MutableClock clock = new MutableClock(T);
    AdminSessions s = new AdminSessions(clock);
    String idle = s.open("a1");
    clock.advance(Duration.ofMinutes(29));
    assertThat(s.credentialOf(idle)).hasValue("a1");
    clock.advance(Duration.ofMinutes(30));
    assertThat(s.credentialOf(idle)).as("30 minutes unused").isEmpty();

    String busy = s.open("a1");
    for (int i = 0; i < 12 * 4 - 1; i++) {
      clock.advance(Duration.ofMinutes(15));
      assertThat(s.credentialOf(busy)).as("used every 15 minutes, %d", i).hasValue("a1");
    }
    clock.advance(Duration.ofMinutes(15));
    assertThat(s.credentialOf(busy)).as("12 hours after login").isEmpty();
  }

  @Test
  void sessionsEndWithTheirCredentialAndAtLogout() {
    AdminSessions s = new AdminSessions(new MutableClock(T));
    String a = s.open("a1");
    String b = s.open("a1");
    String other = s.open("b2");
    assertThat(a).matches("[A-Za-z0-9_-]{43}").isNotEqualTo(b);
    s.closeAllOf("a1");
    assertThat(s.credentialOf(a)).isEmpty();
    assertThat(s.credentialOf(b)).isEmpty();
    assertThat(s.credentialOf(other)).hasValue("b2");
    s.close(other);
    assertThat(s.credentialOf(other)).isEmpty();
    assertThat(s.size()).isZero();
  }

  @Test
  void tenWrongTokensAMinuteThenWaitForTheWindow() {
    // why: the 11th try waits until the minute that began with the first is over
    MutableClock clock = new MutableClock(T);
    LoginLimiter l = new LoginLimiter(clock);
    for (int i = 0; i < 10; i++) {
      assertThat(l.retryAfter("10.0.0.1")).isEmpty();
      l.failed("10.0.0.1");
      clock.advance(Duration.ofSeconds(1));
    }
    assertThat(l.retryAfter("10.0.0.1")).hasValue(Duration.ofSeconds(50));
    assertThat(l.retryAfter("10.0.0.2")).isEmpty();
    clock.advance(Duration.ofSeconds(50));
    assertThat(l.retryAfter("10.0.0.1")).isEmpty();
    l.failed("10.0.0.1");
    assertThat(l.retryAfter("10.0.0.1")).as("a new window").isEmpty();
  }

  @Test
  void adminHostsTakesNamesAndPortsOnly() throws Exception {
    // why: an entry is compared with the Host header as is; a scheme, path or wildcard would
    // never match, or match too much
    var ok =
        ConfigLoader.load(
            null,
            false,
            Map.of(),
            Map.of("admin.hosts", "Admin.Example.com,admin.example.com:8443,[::1]:9000,10.0.0.5"),
            ConfigChecks.ALL);
    assertThat(ok.admin().hosts())
        .containsExactly("admin.example.com", "admin.example.com:8443", "[::1]:9000", "10.0.0.5");
    for (String bad : new String[] {"https://admin.example.com", "*.example.com", "a.example/x"}) {
      Assertions.assertThatThrownBy(
              () ->
                  ConfigLoader.load(
                      null, false, Map.of(), Map.of("admin.hosts", bad), ConfigChecks.ALL))
          .as(bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("admin.hosts");
    }
  }
}
