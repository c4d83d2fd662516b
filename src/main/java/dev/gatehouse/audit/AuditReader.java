package dev.gatehouse.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.config.Values;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads the audit log's files while a gateway writes them: the newest records, then each record as
 * it is added, across sealing (the active file renamed to a segment and a new one started) and
 * retention (old segments deleted). Read-only: it never writes, locks or renames anything, so it
 * may run beside the writer of another process. The lines are returned as written (JSON Lines). One
 * per reader; not thread-safe.
 */
public final class AuditReader implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern DATE_TIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2}(T[0-9:.]+Z?)?");

  private final Path dir;
  private final Path file;
  private final StringBuilder partial = new StringBuilder();
  private Held held;

  /** How far audit.jsonl (the file held) has been read. */
  private long pos;

  /** The newest record returned while following: only newer ones are returned. */
  private long shown;

  /** The sealed segments as {@link #newest} listed them. */
  private @Nullable List<Path> sealed;

  private AuditReader(Path dir) throws IOException {
    this.dir = dir;
    this.file = dir.resolve(AuditWriter.FILE);
    this.held = Held.open(file);
    this.pos = held.f().length();
  }

  /** Opens audit.jsonl in {@code dir} and holds it open; following starts at its current end. */
  public static AuditReader open(Path dir) throws IOException {
    return new AuditReader(dir);
  }

  /**
   * A time bound as the audit log's {@code time} column compares it (a UTC time, fixed width), from
   * a duration back from {@code now} (1h, 7d), a date (2026-11-01) or a UTC date-time
   * (2026-11-01T10:00); null when the text is none of those.
   */
  public static @Nullable String timeBound(String text, Instant now) {
    if (DATE_TIME.matcher(text).matches()) {
      return text.endsWith("Z") ? text.substring(0, text.length() - 1) : text;
    }
    Duration d = Values.duration(text);
    return d == null ? null : AuditRecord.TIME.format(now.minus(d));
  }

  /**
   * The newest {@code n} records before the point where following starts, oldest first: the end of
   * audit.jsonl and, when it holds fewer records than asked for (it was sealed a short while ago),
   * the ends of the newest sealed segments before it.
   */
  public List<String> newest(int n) throws IOException {
    Deque<String> last = lastLines(held.f(), pos, n);
    sealed = AuditSegments.sealed(dir);
    // The file held may have been sealed since it was opened: the newest segment is then that same
    // file, so a segment's lines count only when older than every line already taken.
    long first = last.isEmpty() ? -1 : seqOf(last.getFirst());
    long before = first < 0 ? Long.MAX_VALUE : first;
    for (int i = sealed.size() - 1; i >= 0 && last.size() < n; i--) {
      try (RandomAccessFile s = new RandomAccessFile(sealed.get(i).toFile(), "r")) {
        Deque<String> earlier = lastLines(s, s.length(), n);
        for (var it = earlier.descendingIterator(); it.hasNext() && last.size() < n; ) {
          String line = it.next();
          long seq = seqOf(line);
          if (seq < 0) {
            last.addFirst(line); // not a record this reader can place: kept, as it always was
          } else if (seq < before) {
            last.addFirst(line);
            before = seq;
          }
        }
      } catch (FileNotFoundException pruned) {
        break; // retention deleted it just now: older ones are gone too
      }
    }
    return new ArrayList<>(last);
  }

  /** A line's seq; -1 when it is not a JSON object with one. */
  private static long seqOf(String line) {
    try {
      return JSON.readTree(line).path("seq").asLong(-1);
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * Starts following: from now on {@link #poll} returns only records newer than the newest one
   * before the point where following starts (in audit.jsonl, or else in the newest segment).
   */
  public void follow() throws IOException {
    if (sealed == null) {
      sealed = AuditSegments.sealed(dir);
    }
    Deque<String> last = lastLines(held.f(), pos, 1);
    String line =
        !last.isEmpty()
            ? last.getLast()
            : sealed.isEmpty() ? null : AuditSegments.lastLine(sealed.getLast());
    shown = line == null ? 0 : JSON.readTree(line).path("seq").asLong();
  }

  /**
   * The records added since the last call, oldest first, each once. Sealing renames the file held
   * and starts a new audit.jsonl: the old one is read to its end (it is sealed only after its last
   * write), then the segments sealed since (several, if sealing was quick), then the new file. Only
   * whole lines are returned: a write may be in progress.
   */
  public List<String> poll() throws IOException {
    List<String> out = new ArrayList<>();
    boolean replaced = held.replaced(file, pos);
    readToEnd(out);
    if (!replaced) {
      return out;
    }
    held.f().close();
    held = Held.open(file);
    pos = 0;
    partial.setLength(0);
    for (Path p : AuditSegments.sealed(dir)) {
      if (AuditSegments.firstSeq(p) > shown) {
        try {
          for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
            show(line, out);
          }
        } catch (NoSuchFileException pruned) {
          // retention deleted it meanwhile
        }
      }
    }
    readToEnd(out);
    return out;
  }

  @Override
  public void close() throws IOException {
    held.f().close();
  }

  private void readToEnd(List<String> out) throws IOException {
    RandomAccessFile f = held.f();
    while (pos < f.length()) {
      f.seek(pos);
      byte[] buf = new byte[(int) Math.min(1 << 20, f.length() - pos)];
      f.readFully(buf);
      pos += buf.length;
      partial.append(new String(buf, StandardCharsets.UTF_8));
      int nl;
      while ((nl = partial.indexOf("\n")) >= 0) { // only whole lines: a write may be in progress
        show(partial.substring(0, nl), out);
        partial.delete(0, nl + 1);
      }
    }
  }

  /** A record read twice (from a segment and from the file it was sealed from) is returned once. */
  private void show(String line, List<String> out) throws IOException {
    if (line.isEmpty()) {
      return;
    }
    long seq = JSON.readTree(line).path("seq").asLong();
    if (seq > shown) {
      out.add(line);
      shown = seq;
    }
  }

  /** The last {@code n} lines of the first {@code len} bytes of a file, read from the end. */
  private static Deque<String> lastLines(RandomAccessFile f, long len, int n) throws IOException {
    // Read only the end, widening the window until it holds enough lines (records with
    // prompt text can be tens of KiB; most are well under 1 KiB).
    long window = (long) Math.max(1, n) * 2048;
    String text;
    while (true) {
      long start = Math.max(0, len - window);
      byte[] buf = new byte[(int) Math.min(Integer.MAX_VALUE - 16, len - start)];
      f.seek(start);
      f.readFully(buf);
      text = new String(buf, StandardCharsets.UTF_8);
      if (start > 0) {
        text = text.substring(text.indexOf('\n') + 1); // the first line may be cut
      }
      if (start == 0 || text.chars().filter(c -> c == '\n').count() >= n || window > (1L << 28)) {
        break;
      }
      window *= 4;
    }
    Deque<String> last = new ArrayDeque<>();
    for (String l : text.split("\n")) {
      if (l.isEmpty()) {
        continue;
      }
      last.addLast(l);
      if (last.size() > n) {
        last.removeFirst();
      }
    }
    return last;
  }

  /** audit.jsonl, held open, and which file it is (null where the platform cannot tell). */
  private record Held(RandomAccessFile f, @Nullable Object key) {

    /** How long a sealing may leave the log without its active file: far more than it takes. */
    private static final long REAPPEAR_NANOS = 2_000_000_000L;

    /**
     * Opens the file. Sealing renames it and then creates the next one, so for a moment there is
     * none: while sealed segments say the log exists, a missing file is waited for (at most {@link
     * #REAPPEAR_NANOS}) rather than reported as no log at all.
     */
    static Held open(Path file) throws IOException {
      long deadline = System.nanoTime() + REAPPEAR_NANOS;
      boolean appeared = false;
      while (true) {
        Object key = fileKey(file);
        RandomAccessFile f;
        try {
          f = new RandomAccessFile(file.toFile(), "r");
        } catch (FileNotFoundException e) {
          Path dir = file.toAbsolutePath().getParent();
          boolean there = Files.exists(file);
          if (there && !appeared) {
            // there now: unreadable, or renamed in since the attempt (the end of a sealing);
            // tried once more, and an unreadable file fails then
            appeared = true;
            continue;
          }
          if (there
              || dir == null
              || AuditSegments.sealed(dir).isEmpty()
              || System.nanoTime() > deadline) {
            throw e; // unreadable, or not there and not being sealed
          }
          pause();
          continue;
        }
        if (Objects.equals(key, fileKey(file))) {
          return new Held(f, key);
        }
        f.close(); // sealed and replaced in between: again
      }
    }

    private static void pause() throws InterruptedIOException {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while audit.jsonl was being sealed");
      }
    }

    /** True when the path now names another file than the one held (it was sealed). */
    boolean replaced(Path file, long pos) throws IOException {
      if (key == null) {
        return Files.exists(file) && Files.size(file) < pos;
      }
      Object now = fileKey(file);
      return now != null && !now.equals(key); // null: the new file is not there yet
    }

    private static @Nullable Object fileKey(Path file) throws IOException {
      try {
        return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
      } catch (NoSuchFileException e) {
        return null;
      }
    }
  }
}
