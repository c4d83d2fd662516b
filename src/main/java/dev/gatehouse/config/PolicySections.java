package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.Guard;
import dev.gatehouse.config.GatehouseConfig.GuardMode;
import dev.gatehouse.config.GatehouseConfig.Models;
import dev.gatehouse.config.GatehouseConfig.Policy;
import dev.gatehouse.config.GatehouseConfig.SecretsAction;
import java.time.Duration;
import java.util.List;

/**
 * The sections about what a request may name and say, each built from its settings and checked as
 * it is built: {@code policy.*}, {@code models.*} and {@code guard.*}. The model lock file itself
 * is read by its feature's {@link ConfigCheck}.
 */
final class PolicySections {

  private PolicySections() {}

  static Policy policy(SettingValues v, Problems p) {
    List<String> registries = v.strings("policy.allowed_registries");
    for (String reg : registries) {
      if (!reg.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?")) {
        p.add(
            "policy.allowed_registries",
            "policy.allowed_registries: "
                + reg
                + " (expected: a registry host or host:port, without a scheme or path)");
      }
    }
    return new Policy(List.copyOf(registries), v.bool("policy.allow_cloud_models"));
  }

  static Models models(SettingValues v, Problems p) {
    Duration refresh = v.duration("models.pin_refresh");
    p.positive("models.pin_refresh", refresh);
    return new Models(v.path("models.pinned"), refresh);
  }

  static Guard guard(SettingValues v, Problems p) {
    p.oneOf("guard.mode", "log", "off, log or block", "off", "log", "block");
    p.oneOf(
        "guard.scope",
        "last_user_and_tools",
        "last_user_and_tools, user_and_tools or all",
        "last_user_and_tools",
        "user_and_tools",
        "all");
    p.oneOf("guard.secrets", "off", "off, log, redact or block", "off", "log", "redact", "block");
    Guard g =
        new Guard(
            switch (v.string("guard.mode")) {
              case "off", "false" -> GuardMode.OFF; // YAML 1.1 reads a bare off as false
              case "block" -> GuardMode.BLOCK;
              default -> GuardMode.LOG; // anything else is reported above
            },
            v.string("guard.scope"),
            v.sizeAsInt("guard.max_bytes"),
            switch (v.string("guard.secrets")) {
              case "log" -> SecretsAction.LOG;
              case "redact" -> SecretsAction.REDACT;
              case "block" -> SecretsAction.BLOCK;
              default -> SecretsAction.OFF; // anything else is reported above
            });
    p.range("guard.max_bytes", g.maxChars(), 256, 16L << 20, "256 to 16MiB");
    return g;
  }
}
