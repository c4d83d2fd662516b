package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The reload's config side: the one list of settings that need a restart, and the merge that keeps
 * their running values while the others take the new file's, checked as a whole.
 */
class ReloadingTest {

  private static GatehouseConfig load(Map<String, String> flags) throws ConfigException {
    return ConfigLoader.load(null, false, Map.of(), flags, List.of());
  }

  private static GatehouseConfig merge(GatehouseConfig running, GatehouseConfig next)
      throws ConfigException {
    return ConfigLoader.reloaded(running, next, p -> !Reloading.live(p), "test", List.of());
  }

  @Test
  void everyRestartOnlyNameIsASettingAndEverySettingIsOneOrTheOther() {
    // why: a typo in the list would silently make a restart-only setting look live
    assertThat(Settings.BY_PATH.keySet()).containsAll(Reloading.RESTART);
    assertThat(Reloading.livePaths().size() + Reloading.restartPaths().size())
        .isEqualTo(Settings.ALL.size());
    assertThat(Reloading.livePaths()).contains("policy.allow_cloud_models", "rate.key_rpm");
    assertThat(Reloading.restartPaths()).contains("listen", "upstream", "profile");
  }

  @Test
  void theMergeTakesLiveSettingsFromTheNewFileAndRestartOnlyOnesFromTheRunningConfig()
      throws Exception {
    // why: the running config after a reload is explicit: new live values, old restart values
    GatehouseConfig running = load(Map.of());
    GatehouseConfig next =
        load(
            Map.of(
                "rate.key_rpm", "7",
                "caps.mode", "reject",
                "concurrency.global", "9",
                "listen", "127.0.0.1:9999",
                "alerts.rules", "big: sum tokens requests by key > 10 in 1h cooldown 1h"));

    GatehouseConfig merged = merge(running, next);

    assertThat(next.settings().changedFrom(running.settings()))
        .containsExactly(
            "listen", "rate.key_rpm", "concurrency.global", "caps.mode", "alerts.rules");
    assertThat(merged.settings().changedFrom(running.settings()))
        .containsExactly("rate.key_rpm", "caps.mode");
    assertThat(merged.rate().keyRpm()).isEqualTo(7);
    assertThat(merged.caps().reject()).isTrue();
    assertThat(merged.concurrency().global()).isEqualTo(running.concurrency().global());
    assertThat(merged.listen()).isEqualTo(running.listen());
    assertThat(merged.alerts().rules()).isEmpty();
    // the same config as a load of the live changes alone
    // the same config as a load of the live changes alone (AddressSet compares by identity, so
    // the sections are compared as written out)
    GatehouseConfig liveOnly = load(Map.of("rate.key_rpm", "7", "caps.mode", "reject"));
    assertThat(merged.settings()).isEqualTo(liveOnly.settings());
    assertThat(merged.toString()).isEqualTo(liveOnly.toString());
  }

  @Test
  void aMergeThatIsNotValidAsAWholeIsRefused() throws Exception {
    // why: two valid files can mix into an invalid config: the new one turns auth off on a
    // loopback listener, but the running listener (restart-only) faces the network
    Path dir = Files.createTempDirectory("gh-reload");
    Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
    Path key = Files.writeString(dir.resolve("key.pem"), "x");
    Map<String, String> tls = new HashMap<>();
    tls.put("tls.cert", cert.toString());
    tls.put("tls.key", key.toString());
    Map<String, String> exposed = new HashMap<>(tls);
    exposed.put("listen", "0.0.0.0:8443");
    GatehouseConfig running = load(exposed);
    Map<String, String> local = new HashMap<>(tls);
    local.put("auth.enabled", "false");
    GatehouseConfig next = load(local);

    assertThatThrownBy(() -> merge(running, next))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .singleElement()
                    .asString()
                    .startsWith("listen: 0.0.0.0:8443 (expected: a loopback address"));
  }

  @Test
  void aRunningProdProfileHoldsTheLiveSettingsOfANewDevFile() throws Exception {
    // why: profile needs a restart, so a reload cannot drop prod's requirements by saying dev
    Path dir = Files.createTempDirectory("gh-reload");
    Map<String, String> prod = new HashMap<>(ProfileTest.prodFlags(dir));
    GatehouseConfig running = load(prod);
    Map<String, String> dev = new HashMap<>(prod);
    dev.put("profile", "dev");
    dev.put("probes.action", "log");
    GatehouseConfig next = load(dev);

    assertThatThrownBy(() -> merge(running, next))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .containsExactly(
                        "probes.action: log (expected: ban or tarpit, since profile prod acts on a"
                            + " client that scans)"));
  }
}
