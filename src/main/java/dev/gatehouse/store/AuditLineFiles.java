package dev.gatehouse.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Reads audit records' lines from the log's files in one directory, by the seq and byte offset a
 * row keeps ({@link AuditStore.AuditRow#lineAt}). The log is the sealed segments ({@code
 * audit-<first seq, 20 digits>.jsonl}) followed by the active file ({@code audit.jsonl}); a
 * record's line is in the segment with the greatest first seq not above its own, or in the active
 * file when no later segment exists. A line is given only when it is whole (ends in a newline) and
 * is the record asked for (it begins <code>{"seq":&lt;seq&gt;,</code>, as every record does): an
 * offset that points elsewhere, a file pruned or gone, gives null, and the caller treats the row as
 * gone.
 *
 * <p>Which file holds a seq is told by the listing: the sealed segments' names, and the active
 * file's first record. The active file is sealed (renamed) while the gateway runs: a line not found
 * where the listing said is looked for again after listing the directory afresh, once per read. One
 * per read (a query, a walk over rows), which reads the next line from the buffer when rows follow
 * each other in the file; not thread-safe. Closes its file.
 *
 * <p>The names of the log's files are defined here, where they are read, and the audit writer uses
 * these ({@code AuditWriter.FILE}, {@code AuditSegments}).
 */
public final class AuditLineFiles implements AutoCloseable {

  /** The active file's name. */
  public static final String ACTIVE = "audit.jsonl";

  private static final Pattern SEALED = Pattern.compile("audit-([0-9]{20})\\.jsonl");

  /** How every record's line begins. */
  private static final Pattern FIRST_SEQ = Pattern.compile("\\{\"seq\":([0-9]{1,19}),");

  /** A read's size; a longer line grows it, up to {@link #MAX_LINE}. */
  private static final int CHUNK = 64 * 1024;

  /** The longest line read: an offset that finds no newline within this is not a record. */
  static final int MAX_LINE = 16 * 1024 * 1024;

  private final Path dir;

  /** The sealed segments' first seqs, ascending; null until listed. */
  private long @Nullable [] sealed;

  /**
   * The active file's first seq as listed with {@link #sealed} ({@link Long#MAX_VALUE} when it is
   * empty or absent): a record from it on is in the active file, one before it in a segment.
   */
  private long activeFirst = Long.MAX_VALUE;

  private @Nullable FileChannel file;
  private @Nullable Path filePath;

  /** Files opened to read lines: a walk in the log's order opens each file once (tests). */
  private int opened;

  private byte[] buf = new byte[CHUNK];
  private long bufStart = -1; // the file offset of buf[0]; -1: nothing read
  private int bufLength;

  AuditLineFiles(Path dir) {
    this.dir = dir;
  }

  /** The name of the sealed segment whose first record has sequence number {@code firstSeq}. */
  public static String sealedName(long firstSeq) {
    return String.format("audit-%020d.jsonl", firstSeq);
  }

  /** The first seq a sealed segment's name gives, or -1 when it is not one. */
  public static long sealedFirstSeq(String name) {
    Matcher m = SEALED.matcher(name);
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  /**
   * The line of record {@code seq}, which its writer put at byte {@code at} of its file, without
   * its newline; null when that place does not hold it (see the class comment).
   *
   * @throws StoreException when a file that is there cannot be read (its permissions, an I/O
   *     error): an answer without the rows it holds would look whole
   */
  @Nullable String line(long seq, long at) {
    if (at < 0) {
      return null;
    }
    try {
      boolean listedNow = sealed == null;
      String line = find(seq, at);
      if (line == null && !listedNow) {
        sealed = null; // a seal or a prune since the listing: look again, once, through a
        close(); // channel opened afresh (the one open may be the active file before a seal)
        line = find(seq, at);
      }
      return line;
    } catch (IOException e) {
      throw new StoreException(
          "cannot read the audit log's files in " + dir + ": " + e.getMessage(), e);
    }
  }

  private @Nullable String find(long seq, long at) throws IOException {
    long[] firsts = sealed();
    if (seq >= activeFirst) {
      return read(dir.resolve(ACTIVE), seq, at);
    }
    int i = Arrays.binarySearch(firsts, seq);
    int at0 = i >= 0 ? i : -i - 2; // the greatest first seq not above seq, or -1
    return at0 < 0 ? null : read(dir.resolve(sealedName(firsts[at0])), seq, at);
  }

  private long[] sealed() throws IOException {
    long[] s = sealed;
    if (s != null) {
      return s;
    }
    try (Stream<Path> files = Files.list(dir)) {
      s =
          files
              .mapToLong(p -> sealedFirstSeq(p.getFileName().toString()))
              .filter(v -> v >= 0)
              .sorted()
              .toArray();
    } catch (NoSuchFileException e) {
      s = new long[0];
    }
    activeFirst = firstSeq(dir.resolve(ACTIVE));
    sealed = s;
    return s;
  }

  /**
   * The seq of the first record in {@code file}, read from its first bytes; {@link Long#MAX_VALUE}
   * when it is absent, empty, or does not begin as a record does.
   */
  private static long firstSeq(Path file) throws IOException {
    byte[] head = new byte[40];
    int n;
    try (FileChannel f = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.wrap(head);
      while (b.hasRemaining() && f.read(b) > 0) {
        // read the first bytes
      }
      n = b.position();
    } catch (NoSuchFileException e) {
      return Long.MAX_VALUE;
    }
    Matcher m = FIRST_SEQ.matcher(new String(head, 0, n, StandardCharsets.US_ASCII));
    return m.lookingAt() ? Long.parseLong(m.group(1)) : Long.MAX_VALUE;
  }

  /** The line at {@code at} of {@code path} if it is record {@code seq}'s, else null. */
  private @Nullable String read(Path path, long seq, long at) throws IOException {
    if (!path.equals(filePath)) {
      close();
      try {
        file = FileChannel.open(path, StandardOpenOption.READ);
      } catch (NoSuchFileException e) {
        return null;
      }
      opened++;
      filePath = path;
    }
    FileChannel f = file;
    if (f == null) {
      return null;
    }
    int from = (int) Math.min(Integer.MAX_VALUE, at - bufStart);
    if (bufStart < 0 || at < bufStart || at - bufStart > bufLength) {
      fill(f, at, buf.length);
      from = 0;
    }
    int nl = newline(from);
    while (nl < 0) {
      if (bufLength - from >= MAX_LINE || !more(f, from)) {
        return null; // no newline: a torn end, or not a line's start
      }
      from = 0;
      nl = newline(from);
    }
    String line = new String(buf, from, nl - from, StandardCharsets.UTF_8);
    return isRecord(line, seq) ? line : null;
  }

  /** The index of the first newline in the buffer from {@code from}, or -1. */
  private int newline(int from) {
    for (int j = from; j < bufLength; j++) {
      if (buf[j] == '\n') {
        return j;
      }
    }
    return -1;
  }

  /**
   * Reads on from the line that starts at {@code from} and has no newline in the buffer yet: the
   * buffer is refilled from that line's start, grown when the line fills it. False at the file's
   * end (nothing more was read).
   */
  private boolean more(FileChannel f, int from) throws IOException {
    long start = bufStart + from;
    int had = bufLength - from;
    int size = had < buf.length ? buf.length : Math.min(MAX_LINE, buf.length * 2);
    if (size > buf.length) {
      buf = new byte[size];
    }
    fill(f, start, size);
    return bufLength > had;
  }

  private void fill(FileChannel f, long position, int size) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(buf, 0, size);
    bufStart = position;
    while (b.hasRemaining()) {
      int n = f.read(b, position + b.position());
      if (n < 0) {
        break;
      }
    }
    bufLength = b.position();
  }

  /** How many files were opened to read lines. */
  int opened() {
    return opened;
  }

  /** Whether {@code line} begins as record {@code seq}'s does: <code>{"seq":&lt;seq&gt;,</code>. */
  static boolean isRecord(String line, long seq) {
    String prefix = "{\"seq\":" + seq + ",";
    return line.startsWith(prefix);
  }

  @Override
  public void close() {
    FileChannel f = file;
    file = null;
    filePath = null;
    bufStart = -1;
    bufLength = 0;
    if (f != null) {
      try {
        f.close();
      } catch (IOException e) {
        // read only: nothing was lost
      }
    }
  }
}
