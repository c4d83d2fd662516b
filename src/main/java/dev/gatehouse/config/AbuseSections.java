package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.Bans;
import dev.gatehouse.config.GatehouseConfig.Connections;
import dev.gatehouse.config.GatehouseConfig.Cors;
import dev.gatehouse.config.GatehouseConfig.Network;
import dev.gatehouse.config.GatehouseConfig.ProbeAction;
import dev.gatehouse.config.GatehouseConfig.Probes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The sections of docs/abuse.md, each built from its settings and checked as it is built: {@code
 * network.*}, {@code cors.*}, {@code bans.*}, {@code probes.*} and {@code connections.*}.
 * Addresses, hosts, origins and choices are checked item by item, which typing alone cannot do.
 */
final class AbuseSections {

  private AbuseSections() {}

  private static final String CIDR_EXPECTED =
      "an IP address or CIDR range such as 192.168.1.0/24 or 2001:db8::/48";

  /**
   * Reports each entry of an address list that is not an address or range; {@link AddressSet#parse}
   * skips those.
   */
  private static List<String> addresses(SettingValues v, Problems p, String path) {
    List<String> entries = v.strings(path);
    for (String e : entries) {
      if (Cidr.parse(e) == null) {
        p.add(path, path + ": " + e + " (expected: " + CIDR_EXPECTED + ")");
      }
    }
    return entries;
  }

  static Network network(SettingValues v, Problems p) {
    List<String> allow = addresses(v, p, "network.allow");
    List<String> deny = addresses(v, p, "network.deny");
    List<String> trustedProxies = addresses(v, p, "network.trusted_proxies");
    List<String> ioc = addresses(v, p, "network.ioc");
    List<String> hosts = v.strings("network.allowed_hosts");
    for (String h : hosts) {
      if (!h.equals("*")
          && !h.matches(
              "(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")
          && IpAddress.parse(
                  h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h)
              == null) {
        p.add(
            "network.allowed_hosts",
            "network.allowed_hosts: "
                + h
                + " (expected: a host name, *.domain, an IP address, or * for any; without a port)");
      }
    }
    Path iocFile = v.path("network.ioc_file");
    return new Network(
        AddressSet.parse(allow),
        AddressSet.parse(deny),
        AddressSet.parse(trustedProxies),
        List.copyOf(hosts),
        AddressSet.parse(iocFile == null ? ioc : withIocFile(p, ioc, iocFile)),
        iocFile);
  }

  /**
   * The IoC list with the IoC file's entries after it; each malformed line is reported, up to five.
   */
  private static List<String> withIocFile(Problems p, List<String> ioc, Path iocFile) {
    if (!Files.isReadable(iocFile)) {
      p.add(
          "network.ioc_file",
          "network.ioc_file: "
              + iocFile
              + " (expected: a readable text file of addresses, one per line)");
      return ioc;
    }
    List<String> merged = new ArrayList<>(ioc);
    try {
      int lineNo = 0;
      int bad = 0;
      for (String line : Files.readAllLines(iocFile)) {
        lineNo++;
        int hash = line.indexOf('#');
        String entry = (hash >= 0 ? line.substring(0, hash) : line).trim();
        if (entry.isEmpty()) {
          continue;
        }
        if (Cidr.parse(entry) == null) {
          if (++bad <= 5) { // a wrong file would otherwise bury every other problem
            p.add(
                "network.ioc_file",
                "network.ioc_file: "
                    + iocFile
                    + " line "
                    + lineNo
                    + ": "
                    + entry
                    + " (expected: "
                    + CIDR_EXPECTED
                    + ")");
          }
        } else {
          merged.add(entry);
        }
      }
    } catch (IOException | RuntimeException e) {
      p.add(
          "network.ioc_file",
          "network.ioc_file: "
              + iocFile
              + " (expected: a readable text file of addresses; "
              + e.getMessage()
              + ")");
    }
    return merged;
  }

  static Cors cors(SettingValues v, Problems p) {
    List<String> origins = v.strings("cors.origins");
    for (String o : origins) {
      if (o.equals("*") || o.equals("null")) {
        p.add(
            "cors.origins",
            "cors.origins: "
                + o
                + " (expected: an origin such as https://app.example.com; "
                + o
                + " would let any web page call the API with a visitor's key)");
      } else if (!o.matches(
          "https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?")) {
        p.add(
            "cors.origins",
            "cors.origins: "
                + o
                + " (expected: an origin such as https://app.example.com, without a path)");
      }
    }
    Duration maxAge = v.duration("cors.max_age");
    p.positive("cors.max_age", maxAge);
    return new Cors(List.copyOf(origins), maxAge);
  }

  static Bans bans(SettingValues v, Problems p) {
    List<String> never = addresses(v, p, "bans.never");
    String refusal = v.string("bans.refusal");
    if (!List.of("close", "403").contains(refusal)) {
      p.add("bans.refusal", "bans.refusal: " + refusal + " (expected: close or 403)");
    }
    Bans b =
        new Bans(
            v.integer("bans.auth_failures"),
            v.duration("bans.auth_window"),
            v.duration("bans.duration"),
            v.duration("bans.max_duration"),
            !"403".equals(refusal),
            AddressSet.parse(never));
    p.range(
        "bans.auth_failures",
        b.authFailures(),
        0,
        1000,
        "0-1000, where 0 turns auth-failure bans off");
    p.positive("bans.auth_window", b.authWindow());
    p.positive("bans.duration", b.duration());
    p.positive("bans.max_duration", b.maxDuration());
    if (b.maxDuration().compareTo(b.duration()) < 0) {
      p.invalid("bans.max_duration", b.maxDuration().toString(), "at least bans.duration");
    }
    return b;
  }

  static Probes probes(SettingValues v, Problems p) {
    String action = v.string("probes.action");
    if (!List.of("log", "ban", "tarpit").contains(action)) {
      p.add("probes.action", "probes.action: " + action + " (expected: log, ban or tarpit)");
    }
    Probes pr =
        new Probes(
            probeAction(action),
            v.integer("probes.threshold"),
            v.duration("probes.window"),
            v.duration("probes.tarpit_delay"),
            v.sizeAsInt("probes.body_peek_bytes"),
            v.duration("probes.body_peek_timeout"));
    p.range("probes.threshold", pr.threshold(), 1, 1_000_000, "1-1000000");
    p.positive("probes.window", pr.window());
    p.positive("probes.tarpit_delay", pr.tarpitDelay());
    p.range("probes.tarpit_delay", pr.tarpitDelay().toMillis(), 0, 60_000, "at most 60s");
    p.range("probes.body_peek_bytes", pr.bodyPeekBytes(), 0, 65_536, "0 (off) to 64KiB");
    p.positive("probes.body_peek_timeout", pr.bodyPeekTimeout());
    p.range("probes.body_peek_timeout", pr.bodyPeekTimeout().toMillis(), 1, 10_000, "at most 10s");
    return pr;
  }

  private static ProbeAction probeAction(String text) {
    for (ProbeAction a : ProbeAction.values()) {
      if (a.name().equalsIgnoreCase(text)) {
        return a;
      }
    }
    return ProbeAction.LOG; // only reached when the choice was already reported
  }

  static Connections connections(SettingValues v, Problems p) {
    Connections c =
        new Connections(v.integer("connections.max_per_ip"), v.integer("connections.max_total"));
    p.range("connections.max_per_ip", c.maxPerIp(), 1, 10_000_000, "1-10000000");
    p.range("connections.max_total", c.maxTotal(), 1, 10_000_000, "1-10000000");
    return c;
  }
}
