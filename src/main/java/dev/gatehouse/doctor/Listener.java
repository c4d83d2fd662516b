package dev.gatehouse.doctor;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * A listening TCP socket on this machine, as the kernel lists it in {@code /proc/net/tcp} or {@code
 * tcp6}. IPv4-mapped IPv6 addresses ({@code ::ffff:0.0.0.0}) are shown and judged as the IPv4
 * address they carry, because that is what Java and Go servers bind when asked for an IPv4 address
 * on a dual-stack socket.
 *
 * @param address the bound address
 * @param port the port
 * @param inode the socket's inode, which links it to the process holding it
 * @param uid the owner's user id
 * @param table the file it was read from, for evidence
 */
public record Listener(InetAddress address, int port, long inode, int uid, String table) {

  /** True when bound to every interface (0.0.0.0 or ::). */
  public boolean wildcard() {
    return address.isAnyLocalAddress();
  }

  /** True when only this machine can connect (127.0.0.0/8, ::1). */
  public boolean loopback() {
    return address.isLoopbackAddress();
  }

  /** True when another machine could connect: a wildcard or any non-loopback address. */
  public boolean reachableFromOthers() {
    return !loopback();
  }

  /** {@code 0.0.0.0:11434}, {@code [::]:11434}. */
  public String hostPort() {
    return host(address) + ":" + port;
  }

  /** An address as a URL host: IPv6 in brackets, {@code ::} and {@code ::1} in short form. */
  public static String host(InetAddress a) {
    if (a instanceof Inet6Address) {
      String text =
          a.isAnyLocalAddress() ? "::" : a.isLoopbackAddress() ? "::1" : a.getHostAddress();
      int zone = text.indexOf('%');
      return "[" + (zone >= 0 ? text.substring(0, zone) : text) + "]";
    }
    return a.getHostAddress();
  }
}
