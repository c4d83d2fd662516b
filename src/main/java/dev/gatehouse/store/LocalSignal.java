package dev.gatehouse.store;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * "Keys or bans just changed" between the processes that share one SQLite data directory, the way
 * PostgreSQL's {@code LISTEN/NOTIFY} does it for a shared database. Each gateway listens on a Unix
 * domain socket in {@code DATA_DIR/run/} (a directory only its owner may enter); a process that has
 * committed a change connects to every other socket there and waits for the one-byte answer, which
 * a gateway sends only after it has reloaded. So when {@code gatehouse keys revoke} returns, every
 * running gateway already refuses the key.
 *
 * <p>The connection is the whole message: nothing is read from it, so a client cannot hold the
 * listener with a slow write. A socket whose process is gone (connection refused) is deleted.
 */
final class LocalSignal implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse.store");

  /** How long a writer waits for one gateway to reload before going on without its answer. */
  static final long ANSWER_MILLIS = 5_000;

  private final Path socket;
  private final ServerSocketChannel server;
  private final Thread thread;
  private final AtomicBoolean closed = new AtomicBoolean();

  private LocalSignal(Path socket, ServerSocketChannel server, Runnable onSignal) {
    this.socket = socket;
    this.server = server;
    this.thread = new Thread(() -> serve(onSignal), "gatehouse-store-signal");
    thread.setDaemon(true);
    thread.start();
  }

  /** The directory of the sockets in a data directory. */
  static Path dirOf(Path dataDir) {
    return dataDir.resolve("run");
  }

  /** The directory of the sockets, created (owner only) if needed. */
  static Path runDir(Path dataDir) throws IOException {
    Path dir = dirOf(dataDir);
    if (!Files.isDirectory(dir)) {
      try {
        Files.createDirectories(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (UnsupportedOperationException e) {
        Files.createDirectories(dir);
      }
    }
    return dir;
  }

  /**
   * Listens on a new socket in {@code runDir}; {@code onSignal} runs once per connection, on the
   * listener's thread, and the answer is sent when it returns.
   *
   * @throws IOException when the socket cannot be made (the path too long, say): the caller then
   *     sees other processes' changes only through its timer
   */
  static LocalSignal listen(Path runDir, Runnable onSignal) throws IOException {
    Path socket =
        runDir.resolve(
            "gatehouse-"
                + ProcessHandle.current().pid()
                + "-"
                + Long.toHexString(System.nanoTime())
                + ".sock");
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(socket));
    } catch (IOException | RuntimeException e) {
      server.close();
      throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
    }
    return new LocalSignal(socket, server, onSignal);
  }

  /** This listener's socket, which its own process skips when it signals. */
  Path socket() {
    return socket;
  }

  private void serve(Runnable onSignal) {
    while (!closed.get()) {
      try (SocketChannel c = server.accept()) {
        try {
          onSignal.run();
        } catch (RuntimeException e) {
          LOG.warning("reload after a store change failed: " + e.getMessage());
        }
        c.write(ByteBuffer.wrap(new byte[] {'k'}));
      } catch (IOException e) {
        if (!closed.get()) {
          LOG.fine("store signal connection: " + e.getMessage());
        }
      }
    }
  }

  /**
   * Tells every other listener in {@code runDir} that something changed, and waits for each to
   * answer (at most {@link #ANSWER_MILLIS} each). Never throws: the change is committed already,
   * and a gateway that does not answer still sees it on its timer.
   *
   * @return how many listeners answered
   */
  static int signalAll(Path runDir, @Nullable Path except) {
    if (!Files.isDirectory(runDir)) {
      return 0;
    }
    List<Path> sockets;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(runDir, "gatehouse-*.sock")) {
      sockets = new java.util.ArrayList<>();
      ds.forEach(sockets::add);
    } catch (IOException e) {
      LOG.fine("cannot list " + runDir + ": " + e.getMessage());
      return 0;
    }
    int answered = 0;
    for (Path s : sockets) {
      if (s.equals(except)) {
        continue;
      }
      if (signal(s)) {
        answered++;
      }
    }
    return answered;
  }

  private static boolean signal(Path socket) {
    try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      try {
        c.connect(UnixDomainSocketAddress.of(socket));
      } catch (java.net.ConnectException | java.nio.file.NoSuchFileException e) {
        Files.deleteIfExists(socket); // its process is gone
        return false;
      }
      c.configureBlocking(false);
      try (Selector sel = Selector.open()) {
        c.register(sel, SelectionKey.OP_READ);
        long deadline = System.currentTimeMillis() + ANSWER_MILLIS;
        ByteBuffer one = ByteBuffer.allocate(1);
        while (System.currentTimeMillis() < deadline) {
          sel.select(Math.max(1, deadline - System.currentTimeMillis()));
          int n = c.read(one);
          if (n != 0) {
            return n > 0;
          }
        }
      }
      LOG.warning(
          "a gateway ("
              + socket.getFileName()
              + ") did not confirm a store change within "
              + ANSWER_MILLIS
              + " ms");
      return false;
    } catch (IOException e) {
      LOG.fine("store signal to " + socket + ": " + e.getMessage());
      return false;
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      server.close();
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      LOG.fine("closing " + socket + ": " + e.getMessage());
    }
    try {
      thread.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
