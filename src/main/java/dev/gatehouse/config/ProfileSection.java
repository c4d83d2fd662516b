package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.ProbeAction;
import dev.gatehouse.config.GatehouseConfig.Profile;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code profile} setting, and what {@code prod} requires of the rest of the config. A {@code
 * prod} config that falls short is refused at load with one problem per gap, and {@code doctor}
 * reports the same gaps as findings (from {@link #gaps}, the one list of them).
 */
public final class ProfileSection {

  private ProfileSection() {}

  /**
   * One way a config falls short of {@code prod}.
   *
   * @param path the setting to change
   * @param shown its value now, as the report shows it
   * @param expected what {@code prod} needs of it, and why
   * @param fix what to write instead
   */
  public record Gap(String path, String shown, String expected, String fix) {

    /** The problem line, in the config error format. */
    public String line() {
      return path + ": " + (shown.isEmpty() ? "(empty)" : shown) + " (expected: " + expected + ")";
    }
  }

  static Profile profile(SettingValues v, Problems p) {
    p.exactlyOneOf("profile", "dev", "dev or prod", "dev", "prod");
    return "prod".equals(v.string("profile")) ? Profile.PROD : Profile.DEV;
  }

  /** Refuses a {@code prod} config with a gap, each gap its own problem. */
  static void check(GatehouseConfig c, Problems p) {
    if (c.profile() != Profile.PROD) {
      return;
    }
    for (Gap g : gaps(c)) {
      p.add(g.path(), g.line());
    }
  }

  /**
   * What keeps {@code c} from being a {@code prod} config, whatever its profile says: empty when it
   * is one.
   */
  public static List<Gap> gaps(GatehouseConfig c) {
    List<Gap> gaps = new ArrayList<>();
    // TLS only: a key or a prompt must never cross the network in clear text, loopback included
    // (a prod host runs other software, and a local proxy in front would hide the gap).
    if (!c.tlsEnabled()) {
      gaps.add(
          new Gap(
              "tls.cert",
              "",
              "a PEM certificate with tls.key, since profile prod serves HTTPS only",
              "Set tls.cert and tls.key (gatehouse tls self-signed --host NAME writes a pair;"
                  + " a certificate from your CA is better)."));
    }
    if (!c.authEnabled()) {
      gaps.add(
          new Gap(
              "auth.enabled",
              "false",
              "true, since profile prod authenticates every request",
              "Remove auth.enabled: false, and give each client its own key (gatehouse keys"
                  + " create --name NAME)."));
    }
    // The admin listener: control-plane access (and /metrics) stays on this machine, where the
    // network cannot read or replay an admin credential.
    if (c.admin().allowRemote()) {
      gaps.add(
          new Gap(
              "admin.allow_remote",
              "true",
              "false, since profile prod keeps the admin listener on loopback, where no admin"
                  + " credential crosses the network",
              "Remove admin.allow_remote and bind admin.listen to 127.0.0.1; reach it through an"
                  + " SSH tunnel or a TLS proxy on this host."));
    }
    // Strict CORS: '*' and 'null' are refused in every profile; prod also refuses a page served
    // in clear text, which anyone on its path could rewrite to call the API with the user's key.
    for (String origin : c.cors().origins()) {
      if (!origin.toLowerCase(Locale.ROOT).startsWith("https://")) {
        gaps.add(
            new Gap(
                "cors.origins",
                origin,
                "https:// origins only, since profile prod lets no clear-text page call the API",
                "Serve that page over HTTPS and list its https:// origin, or remove it."));
      }
    }
    // Ban escalation: an address that keeps failing authentication is banned, a repeat offender
    // longer each time, and a scanner is acted on rather than only logged.
    if (c.bans().authFailures() == 0) {
      gaps.add(
          new Gap(
              "bans.auth_failures",
              "0",
              "1 or more, since profile prod bans an address that keeps failing authentication",
              "Remove bans.auth_failures: 0 (the default bans after 10 failures in 5m)."));
    }
    if (c.bans().maxDuration().compareTo(c.bans().duration()) <= 0) {
      gaps.add(
          new Gap(
              "bans.max_duration",
              DurationText.duration(c.bans().maxDuration().toMillis()),
              "longer than bans.duration ("
                  + DurationText.duration(c.bans().duration().toMillis())
                  + "), since profile prod doubles a repeat offender's ban",
              "Set bans.max_duration above bans.duration (the default is 24h)."));
    }
    if (c.probes().action() == ProbeAction.LOG) {
      gaps.add(
          new Gap(
              "probes.action",
              "log",
              "ban or tarpit, since profile prod acts on a client that scans",
              "Set probes.action: ban (or tarpit, to slow a scanner down without a ban)."));
    }
    return gaps;
  }
}
