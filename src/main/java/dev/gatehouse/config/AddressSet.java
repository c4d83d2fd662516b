package dev.gatehouse.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A set of addresses and ranges, looked up per request: single addresses in a hash set (an IoC feed
 * can hold thousands), ranges scanned in order. Immutable and thread-safe.
 */
public final class AddressSet {

  public static final AddressSet EMPTY = new AddressSet(List.of());

  private final Set<IpAddress> singles = new HashSet<>();
  private final List<Cidr> ranges = new ArrayList<>();
  private final List<Cidr> all;

  public AddressSet(Collection<Cidr> entries) {
    this.all = List.copyOf(entries);
    for (Cidr c : entries) {
      if (c.single()) {
        singles.add(c.network());
      } else {
        ranges.add(c);
      }
    }
  }

  /**
   * Parses each entry with {@link Cidr#parse}, skipping malformed ones (the loader reports those).
   */
  public static AddressSet parse(Collection<String> entries) {
    List<Cidr> out = new ArrayList<>();
    for (String e : entries) {
      Cidr c = Cidr.parse(e);
      if (c != null) {
        out.add(c);
      }
    }
    return new AddressSet(out);
  }

  public boolean contains(IpAddress a) {
    if (a == null) {
      return false;
    }
    if (singles.contains(a)) {
      return true;
    }
    for (Cidr c : ranges) {
      if (c.contains(a)) {
        return true;
      }
    }
    return false;
  }

  public boolean isEmpty() {
    return all.isEmpty();
  }

  /** The entries, in the order given. */
  public List<Cidr> entries() {
    return all;
  }

  @Override
  public String toString() {
    return all.toString();
  }
}
