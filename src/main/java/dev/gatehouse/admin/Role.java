package dev.gatehouse.admin;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * What an admin credential may do. Each role includes the ones below it: a {@code viewer} reads; an
 * {@code operator} also manages keys and bans and reloads the config; an {@code admin} may do
 * everything, including managing admin credentials.
 */
public enum Role {
  VIEWER,
  OPERATOR,
  ADMIN;

  /** True when this role may do what {@code needed} may. */
  public boolean allows(Role needed) {
    return compareTo(needed) >= 0;
  }

  /** The lower-case name used in the API, the CLI and the store. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The role named by {@code label} ({@code viewer}, {@code operator}, {@code admin}), or null. */
  public static @Nullable Role parse(@Nullable String label) {
    if (label == null) {
      return null;
    }
    for (Role r : values()) {
      if (r.label().equals(label)) {
        return r;
      }
    }
    return null;
  }
}
