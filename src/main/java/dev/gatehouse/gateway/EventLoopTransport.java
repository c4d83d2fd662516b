package dev.gatehouse.gateway;

import dev.gatehouse.config.GatehouseConfig.IoTransport;
import io.vertx.core.transport.Transport;
import java.util.Objects;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The socket I/O the event loops use ({@code server.transport}). io_uring submits the reads and
 * writes of all of a loop's connections in one system call a turn, where epoll makes one call per
 * read, write and wait: on a virtual machine, where each system call is dear, that is the larger
 * part of a small request's kernel time. {@code auto} takes the first this machine allows; a named
 * one that is unavailable stops the start, with the kernel's or the library's reason.
 */
final class EventLoopTransport {

  private EventLoopTransport() {}

  /** The transport to start Vert.x with. */
  static Transport pick(IoTransport setting) {
    return switch (setting) {
      case AUTO ->
          Stream.of(Transport.IO_URING, Transport.EPOLL)
              .filter(EventLoopTransport::available)
              .findFirst()
              .orElse(Transport.NIO);
      case IO_URING -> required(Transport.IO_URING, "io_uring");
      case EPOLL -> required(Transport.EPOLL, "epoll");
      case NIO -> Transport.NIO;
    };
  }

  /** Whether Vert.x found the transport's classes, and Netty its library and the kernel's leave. */
  static boolean available(@Nullable Transport transport) {
    return transport != null && transport.available();
  }

  /** {@code transport}, or the refusal to start without it. */
  static Transport required(@Nullable Transport transport, String name) {
    if (transport == null) { // Vert.x found no classes for it
      throw new IllegalStateException(
          "server.transport: "
              + name
              + " is not in this build; use auto to take the best one there is");
    }
    if (!transport.available()) {
      Throwable cause = transport.unavailabilityCause();
      throw new IllegalStateException(
          "server.transport: "
              + name
              + " is not available on this machine ("
              + (cause == null
                  ? "no reason given"
                  : Objects.toString(cause.getMessage(), cause.toString()))
              + "); use auto to take the best one there is");
    }
    return transport;
  }
}
