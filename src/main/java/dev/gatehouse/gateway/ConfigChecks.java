package dev.gatehouse.gateway;

import dev.gatehouse.alerts.Alerts;
import dev.gatehouse.alerts.ManageHours;
import dev.gatehouse.config.ConfigCheck;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.Problems;
import dev.gatehouse.identify.cert.CertPrincipals;
import dev.gatehouse.pins.ModelPins;
import java.io.IOException;
import java.util.List;

/**
 * The features' checks of the configuration, in one list: settings whose syntax a feature parses
 * itself, checked at load by that same parser so that a mistake stops the start with every other
 * problem instead of failing later. Serve, each command and the tests pass {@link #ALL} to {@link
 * dev.gatehouse.config.ConfigLoader#load}; adding a feature with its own syntax adds a line here.
 */
public final class ConfigChecks {

  private ConfigChecks() {}

  /** Every feature's check, in the order they were added (the report has its own order). */
  public static final List<ConfigCheck> ALL =
      List.of(
          ConfigChecks::alertRules,
          ConfigChecks::manageHours,
          ConfigChecks::modelPins,
          ConfigChecks::clientPrincipals);

  /** {@code alerts.rules}, with the shipped rules when {@code alerts.default_rules} is on. */
  static void alertRules(GatehouseConfig c, Problems p) {
    try {
      Alerts.rules(c.alerts().defaultRules(), c.alerts().rules());
    } catch (IllegalArgumentException e) {
      p.add("alerts.rules", "alerts.rules: " + e.getMessage());
    }
  }

  /** {@code alerts.manage_hours}, in {@code alerts.timezone}. */
  static void manageHours(GatehouseConfig c, Problems p) {
    try {
      ManageHours.parse(c.alerts().manageHours(), c.alerts().timezone());
    } catch (IllegalArgumentException e) {
      p.invalid("alerts.manage_hours", ManageHours.FORM + "; " + e.getMessage());
    }
  }

  /**
   * {@code models.pinned}: a lock file that cannot be read must stop the start, not silently turn
   * pinning off.
   */
  static void modelPins(GatehouseConfig c, Problems p) {
    if (c.models().pinned() == null) {
      return;
    }
    try {
      ModelPins.load(c.models().pinned());
    } catch (IOException | IllegalArgumentException e) {
      p.add(
          "models.pinned",
          "models.pinned: "
              + c.models().pinned()
              + " (expected: a readable model lock file written by gatehouse models verify --pin; "
              + e.getMessage()
              + ")");
    }
  }

  /** {@code tls.client_principals}: which client certificates are principals, and what they get. */
  static void clientPrincipals(GatehouseConfig c, Problems p) {
    try {
      CertPrincipals.parse(c.tls().clients().principals());
    } catch (IllegalArgumentException e) {
      p.add("tls.client_principals", "tls.client_principals: " + e.getMessage());
    }
  }
}
