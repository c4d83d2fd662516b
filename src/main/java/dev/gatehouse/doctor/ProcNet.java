package dev.gatehouse.doctor;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The reader of this machine's listening TCP sockets, from {@code <proc>/net/tcp} and {@code tcp6}.
 * The proc root is a parameter so tests (and audits of a container from its host) can point it
 * elsewhere.
 *
 * <p>Addresses in these files are hexadecimal in the kernel's byte order: each 32-bit word is
 * little-endian on x86 and ARM, so {@code 0100007F} is 127.0.0.1. Ports are big-endian hex.
 */
public final class ProcNet {

  /** The socket state number the kernel uses for LISTEN. */
  private static final String LISTEN = "0A";

  private ProcNet() {}

  /** Every listening socket in both tables; a missing table (no IPv6) is simply empty. */
  public static List<Listener> listeners(Path procRoot) throws IOException {
    List<Listener> all = new ArrayList<>();
    all.addAll(read(procRoot.resolve("net/tcp")));
    all.addAll(read(procRoot.resolve("net/tcp6")));
    return all;
  }

  static List<Listener> read(Path table) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(table, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      return List.of();
    }
    List<Listener> out = new ArrayList<>();
    for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 10 || !f[3].equals(LISTEN)) {
        continue;
      }
      int colon = f[1].indexOf(':');
      if (colon < 0) {
        continue;
      }
      try {
        InetAddress address = address(f[1].substring(0, colon));
        int port = Integer.parseInt(f[1].substring(colon + 1), 16);
        out.add(
            new Listener(
                address, port, Long.parseLong(f[9]), Integer.parseInt(f[7]), table.toString()));
      } catch (IllegalArgumentException | UnknownHostException e) {
        // A line this parser does not understand describes no socket we could judge; skip it.
      }
    }
    return out;
  }

  /** Decodes 8 (IPv4) or 32 (IPv6) hex digits, each 32-bit word in little-endian order. */
  static InetAddress address(String hex) throws UnknownHostException {
    if (hex.length() != 8 && hex.length() != 32) {
      throw new IllegalArgumentException("address: " + hex);
    }
    byte[] raw = HexFormat.of().parseHex(hex);
    byte[] bytes = new byte[raw.length];
    for (int word = 0; word < raw.length; word += 4) {
      for (int i = 0; i < 4; i++) {
        bytes[word + i] = raw[word + 3 - i];
      }
    }
    return InetAddress.getByAddress(bytes); // an IPv4-mapped IPv6 address comes back as IPv4
  }
}
