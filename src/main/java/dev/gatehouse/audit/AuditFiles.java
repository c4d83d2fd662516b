package dev.gatehouse.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The audit log's files as the writer keeps them: the active file it appends to and fsyncs, the
 * sealed segments before it (see {@link AuditSegments}), and segment rotation: once the active file
 * reaches {@code segmentBytes} it is sealed and a new one started. Every rename, creation and
 * deletion is followed by an fsync of the directory, so that the names survive a crash as surely as
 * the records fsynced into them. It knows how much of the active file is fsynced ({@link #force}),
 * so that records written but not yet fsynced can be written again after a failed fsync. The writer
 * thread's; not thread-safe.
 */
final class AuditFiles {

  /**
   * A sealed segment: its file, size, and its last record's seq, hash and time (null: unreadable).
   */
  record Segment(Path path, long size, long lastSeq, String lastHash, @Nullable Instant lastTime) {}

  private static final Logger LOG = Logger.getLogger("gatehouse.audit");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AuditWriter.FileOpener DEFAULT_OPENER =
      path ->
          FileChannel.open(
              path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);

  private final Path dir;
  private final Path activePath;
  private final long segmentBytes;
  private final ArrayDeque<Segment> sealed = new ArrayDeque<>(); // oldest first
  private AuditWriter.FileOpener opener = DEFAULT_OPENER;
  private @Nullable FileChannel file; // null after a failed rotation: the next write opens it again
  private long
      activeFirstSeq; // the seq of the active file's first record (head + 1 while it is empty)
  private long syncedSize; // the active file's size at its last successful fsync

  /**
   * The active file's size as this writer left it, or -1 when unknown (asked of the file then):
   * saves an fstat per batch. Only this writer appends to the file.
   */
  private long size = -1;

  /**
   * @param segmentBytes the size at which the active file is sealed; 0 or less: never
   */
  AuditFiles(Path dir, long segmentBytes) {
    this.dir = dir;
    this.activePath = dir.resolve(AuditWriter.FILE);
    this.segmentBytes = segmentBytes;
  }

  /**
   * A crash can leave half a line at the end of the file. That record's future never completed
   * (completion waits for the write, or with {@code fsync} durability the fsync, of the whole
   * batch), so no response waiting on it was sent in full: cutting it off loses nothing that was
   * promised. The cut is logged.
   */
  static void recoverTornTail(Path path) throws IOException {
    if (!Files.exists(path) || Files.size(path) == 0) {
      return;
    }
    try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
      long len = f.length();
      long pos = len;
      while (pos > 0) {
        f.seek(pos - 1);
        if (f.read() == '\n') {
          break;
        }
        pos--;
      }
      if (pos < len) {
        f.setLength(pos);
        f.getFD().sync();
        LOG.warning(
            path.getFileName()
                + ": cut off "
                + (len - pos)
                + " bytes of a torn final record left by a crash (it was never acknowledged)");
      }
    }
  }

  /**
   * Lists the sealed segments and reads the active file's first and last records, moving {@code
   * head} on to the newest record found: in the active file; if that is empty or missing (a crash
   * between sealing it and starting the next), in the newest sealed segment. Segments a pruning
   * anchor already covers (a pruning cut short) do not move the head.
   */
  void load(ChainHead head) throws IOException {
    for (Path p : AuditSegments.sealed(dir)) {
      Segment s = segment(p);
      if (s == null) {
        continue;
      }
      sealed.add(s);
      if (s.lastSeq() >= head.seq) {
        head.seq = s.lastSeq();
        head.hash = s.lastHash();
        head.time = s.lastTime() == null ? null : s.lastTime().toString();
      }
    }
    String last = AuditSegments.lastLine(activePath);
    if (last != null) {
      JsonNode n = JSON.readTree(last);
      head.seq = n.path("seq").asLong();
      head.hash = n.path("hash").asText();
      head.time = n.path("time").asText();
      activeFirstSeq = JSON.readTree(AuditSegments.firstLine(activePath)).path("seq").asLong();
    } else {
      activeFirstSeq = head.seq + 1;
    }
  }

  /** Reads a sealed segment's last record; null (and a warning) when it has none. */
  private static @Nullable Segment segment(Path p) throws IOException {
    String last = AuditSegments.lastLine(p);
    if (last == null) {
      LOG.warning(p.getFileName() + ": an empty audit segment, left alone");
      return null;
    }
    JsonNode n = JSON.readTree(last);
    return new Segment(
        p,
        Files.size(p),
        n.path("seq").asLong(),
        n.path("hash").asText(),
        instant(n.path("time").asText()));
  }

  private static @Nullable Instant instant(@Nullable String time) {
    try {
      return time == null ? null : Instant.parse(time);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /**
   * Opens the active file for appending (creating it if needed) and fsyncs it, so that whatever a
   * killed predecessor wrote but had not fsynced yet is durable from here on; done once on start,
   * before any append.
   */
  void open() throws IOException {
    file = openActive();
    file.force(false);
    syncedSize = file.size();
    size = syncedSize;
  }

  /**
   * Closes the active file and opens it through {@code o} from the next append on (the test seam of
   * {@link AuditWriter#useFileOpener}).
   */
  void reopenWith(AuditWriter.FileOpener o) {
    opener = o;
    try {
      if (file != null) {
        file.close();
      }
    } catch (IOException e) {
      LOG.warning("closing the audit file to reopen it: " + e.getMessage());
    }
    file = null;
    size = -1;
  }

  /**
   * Appends {@code bytes} to the active file, and fsyncs it when {@code force}, opening the file
   * first if a failed rotation left it closed. When the write or the fsync fails, whatever part of
   * the bytes reached the file is cut off again before the failure is thrown, so that a retry
   * starts from the old end of the file.
   */
  void append(byte[] bytes, int length, boolean force) throws IOException {
    write(bytes, length, force);
  }

  /**
   * Writes {@code tail}, the bytes written since the last good fsync, again over themselves (the
   * same bytes at the same place), through a channel of its own that does not append: the retry
   * after a failed fsync, before the next {@link #append} with its fsync. After a failed fsync
   * Linux may already have marked those pages clean, so a second fsync alone could report success
   * without writing them; rewriting makes them dirty again. The file never loses them meanwhile
   * (nothing is cut), so a kill -9 during the retry loses nothing that was acknowledged.
   */
  void rewriteUnsynced(byte[] tail) throws IOException {
    try (FileChannel f = FileChannel.open(activePath, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(tail);
      while (buf.hasRemaining()) {
        f.write(buf, syncedSize + buf.position());
      }
    }
  }

  /**
   * Where the next {@link #append} begins: the active file's size, opening it first if a failed
   * rotation left it closed. The offsets of the lines the next append writes count from here.
   */
  long appendsAt() throws IOException {
    if (file == null) {
      file = openActive();
      size = -1;
    }
    return currentSize(file);
  }

  /** The directory the log's files are in. */
  Path dir() {
    return dir;
  }

  private void write(byte[] bytes, int length, boolean force) throws IOException {
    long size0 = -1;
    try {
      if (file == null) {
        file = openActive();
        size = -1;
      }
      size0 = size >= 0 ? size : file.size();
      size = -1; // unknown until the write is done
      ByteBuffer buf = ByteBuffer.wrap(bytes, 0, length);
      while (buf.hasRemaining()) {
        file.write(buf);
      }
      size = size0 + length;
      if (force) {
        file.force(false);
        syncedSize = size;
      }
    } catch (IOException | RuntimeException e) {
      size = -1;
      try {
        if (size0 >= 0 && file != null) {
          file.truncate(size0);
        }
      } catch (IOException again) {
        LOG.log(Level.SEVERE, "cannot undo a partial audit write", again);
      }
      throw e;
    }
  }

  /**
   * Fsyncs the active file: everything written to it so far survives a power loss from here on.
   * Opens it first if it was closed (a failed rotation, a new opener): an fsync through any channel
   * of the file covers what was written through another.
   */
  void force() throws IOException {
    if (file == null) {
      file = openActive();
      size = -1;
    }
    file.force(false);
    syncedSize = currentSize(file);
  }

  /**
   * The open active file, for an fsync on another thread ({@link AuditSync}), or null when it is
   * closed. The writer thread waits for that fsync before it closes, rotates or rewrites the file.
   */
  @Nullable FileChannel channel() {
    return file;
  }

  /** The active file's size now, written through the open channel (which must be open). */
  long writtenSize() throws IOException {
    return currentSize(java.util.Objects.requireNonNull(file, "channel() was open"));
  }

  /** An fsync through {@link #channel} made the file durable up to {@code size}. */
  void forced(long size) {
    syncedSize = size;
  }

  /** The open active file's size: as tracked, or asked of the file when unknown. */
  private long currentSize(FileChannel f) throws IOException {
    if (size < 0) {
      size = f.size();
    }
    return size;
  }

  /** Whether {@link #sealIfFull} would seal the active file now. */
  boolean full(ChainHead head) {
    try {
      return segmentBytes > 0
          && file != null
          && head.seq >= activeFirstSeq
          && currentSize(file) >= segmentBytes;
    } catch (IOException e) {
      return false; // the next write reports a broken file
    }
  }

  /**
   * Seals the active file once it has reached {@code segmentBytes}: the writer fsyncs it first (a
   * sealed segment is never written again, so it must be whole on disk), then it is closed, renamed
   * atomically to its segment name, and a new active file is started; the directory is fsynced so
   * that both names survive a crash. If the rename fails, writing goes on in the same file and
   * sealing is tried again after the next batch.
   */
  void sealIfFull(ChainHead head) {
    if (!full(head)) {
      return;
    }
    Path segment = dir.resolve(AuditSegments.name(activeFirstSeq));
    FileChannel open = java.util.Objects.requireNonNull(file, "full() saw an open file");
    try {
      long sealedSize = open.size();
      open.close();
      file = null;
      size = -1;
      Files.move(activePath, segment, StandardCopyOption.ATOMIC_MOVE);
      sealed.add(new Segment(segment, sealedSize, head.seq, head.hash, instant(head.time)));
      activeFirstSeq = head.seq + 1;
      syncedSize = 0;
      file = openActive(); // fsyncs the directory: the rename and the new file together
    } catch (IOException e) {
      LOG.log(
          Level.SEVERE,
          "sealing the audit file as " + segment.getFileName() + " failed; writing on",
          e);
      try {
        if (file == null) {
          file = openActive();
          size = -1;
        }
      } catch (IOException again) {
        LOG.log(
            Level.SEVERE, "cannot open " + activePath + " again; the next write will retry", again);
      }
    }
  }

  /** The sealed segments, oldest first (a read-only view). */
  Collection<Segment> sealed() {
    return Collections.unmodifiableCollection(sealed);
  }

  /** The size of the active file (0 while it is closed after a failed rotation). */
  long activeSize() throws IOException {
    return file == null ? 0 : currentSize(file);
  }

  /**
   * Deletes the {@code n} oldest sealed segments, then fsyncs the directory. A failure leaves the
   * segments not yet deleted in the list.
   */
  void deleteOldest(int n) throws IOException {
    for (int i = 0; i < n; i++) {
      Files.deleteIfExists(sealed.getFirst().path());
      sealed.removeFirst();
    }
    syncDir();
  }

  /** Deletes the sealed segments whose records are all at or before {@code seq}, oldest first. */
  void deleteThrough(long seq) throws IOException {
    boolean deleted = false;
    while (!sealed.isEmpty() && sealed.peekFirst().lastSeq() <= seq) {
      Files.deleteIfExists(sealed.removeFirst().path());
      deleted = true;
    }
    if (deleted) {
      syncDir();
    }
  }

  /**
   * The files that hold records after {@code seq}: the sealed segments that do, then the active
   * file (which may not exist).
   */
  List<Path> filesAfter(long seq) {
    List<Path> out = new ArrayList<>();
    for (Segment s : sealed) {
      if (s.lastSeq() > seq) {
        out.add(s.path());
      }
    }
    out.add(activePath);
    return out;
  }

  /** Closes the active file. */
  void close() throws IOException {
    if (file != null) {
      file.close();
    }
  }

  private FileChannel openActive() throws IOException {
    boolean created = !Files.exists(activePath);
    FileChannel f = opener.open(activePath);
    if (created) {
      syncDir(); // the new name must survive a crash as surely as the records fsynced into it
    }
    return f;
  }

  /** Makes renames, creations and deletions in the data directory durable. */
  private void syncDir() throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }
}
