package dev.gatehouse.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A TCP relay on loopback to one target port that holds every byte on its way to the target for a
 * fixed time, in order, and passes the target's answers back at once: a link to a real server (a
 * Redis) that is slow in one direction, so a test can tell "sent" from "taken effect".
 */
public final class LaggyRelay implements AutoCloseable {

  private record Piece(long dueNanos, byte[] bytes) {}

  private static final Piece END = new Piece(0, new byte[0]);

  private final ServerSocket server;
  private final int targetPort;
  private final long lagNanos;
  private final List<Socket> open = new CopyOnWriteArrayList<>();

  private LaggyRelay(int targetPort, Duration lag) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.targetPort = targetPort;
    this.lagNanos = lag.toNanos();
    Thread.ofVirtual().start(this::accept);
  }

  /** Relays to {@code targetPort} on loopback, holding what goes there for {@code lag}. */
  public static LaggyRelay to(int targetPort, Duration lag) throws IOException {
    return new LaggyRelay(targetPort, lag);
  }

  public int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        client.setTcpNoDelay(true);
        target.setTcpNoDelay(true);
        open.add(client);
        open.add(target);
        LinkedBlockingQueue<Piece> held = new LinkedBlockingQueue<>();
        Thread.ofVirtual().start(() -> read(client, held));
        Thread.ofVirtual().start(() -> deliver(held, target, client));
        Thread.ofVirtual().start(() -> pass(target, client));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void read(Socket from, LinkedBlockingQueue<Piece> held) {
    byte[] buf = new byte[16 * 1024];
    try (InputStream in = from.getInputStream()) {
      for (int n; (n = in.read(buf)) > 0; ) {
        held.add(new Piece(System.nanoTime() + lagNanos, Arrays.copyOf(buf, n)));
      }
    } catch (IOException e) {
      // the client went away: deliver what is held, then close
    }
    held.add(END);
  }

  private static void deliver(LinkedBlockingQueue<Piece> held, Socket to, Socket client) {
    try (OutputStream out = to.getOutputStream()) {
      for (Piece p = held.take(); p != END; p = held.take()) {
        long wait = p.dueNanos() - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        out.write(p.bytes());
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      // the target went away
    }
    closeQuietly(client);
  }

  private static void pass(Socket from, Socket to) {
    byte[] buf = new byte[16 * 1024];
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      for (int n; (n = in.read(buf)) > 0; ) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // either side went away
    }
    closeQuietly(to);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      // already closed
    }
    open.forEach(LaggyRelay::closeQuietly);
  }
}
