package dev.gatehouse.authorize;

import dev.gatehouse.config.IpAddress;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import org.jspecify.annotations.Nullable;

/**
 * A key's own network rule ({@code keys create --allow-cidr}): a key bound to address ranges is
 * refused from anywhere else with 403 {@code network.key_address_denied}, so that a key copied off
 * its machine is useless elsewhere. Checked right after identify, since the rule belongs to the
 * key. Stateless.
 */
public final class NetworkPolicy {

  private NetworkPolicy() {}

  /** Refuses a key used from outside its ranges; null when it may be used from here. */
  public static @Nullable Rejection check(Principal p, @Nullable IpAddress client) {
    if (p.networks() == null) {
      return null;
    }
    if (client != null && p.networks().contains(client)) {
      return null;
    }
    return Rejection.logged(
        Problem.KEY_ADDRESS_DENIED,
        "key "
            + p.keyId()
            + " used from "
            + (client == null ? "-" : client.text())
            + ", outside its networks");
  }
}
