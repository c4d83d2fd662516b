package dev.gatehouse.audit;

import dev.gatehouse.store.AuditLineFiles;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The files the audit log is kept in. Records go to {@code audit.jsonl} (the active file); when it
 * grows past {@code audit.retention.segment_bytes} it is sealed: renamed to {@code audit-<first
 * seq, 20 digits>.jsonl} and never written again. The whole log is the sealed segments in seq order
 * followed by the active file. Stateless.
 */
public final class AuditSegments {

  private AuditSegments() {}

  /** The name of the sealed segment whose first record has sequence number {@code firstSeq}. */
  public static String name(long firstSeq) {
    return AuditLineFiles.sealedName(firstSeq);
  }

  /** The first sequence number a segment's name gives, or -1 when it is not a segment's name. */
  public static long firstSeq(Path file) {
    return AuditLineFiles.sealedFirstSeq(file.getFileName().toString());
  }

  /** The sealed segments in {@code dir}, oldest first. */
  public static List<Path> sealed(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(p -> firstSeq(p) >= 0 && Files.isRegularFile(p)).forEach(out::add);
    }
    out.sort((a, b) -> Long.compare(firstSeq(a), firstSeq(b)));
    return out;
  }

  /**
   * Every file of the log in {@code dir}, in order: the sealed segments, then the active file if it
   * exists.
   */
  public static List<Path> files(Path dir) throws IOException {
    List<Path> out = sealed(dir);
    Path active = dir.resolve(AuditWriter.FILE);
    if (Files.exists(active)) {
      out.add(active);
    }
    return out;
  }

  /** The first non-empty line of a file, or null when it has none. */
  public static @Nullable String firstLine(Path file) throws IOException {
    if (!Files.exists(file)) {
      return null;
    }
    try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
      return lines.filter(l -> !l.isEmpty()).findFirst().orElse(null);
    }
  }

  /**
   * The last non-empty line of a file (a final line without its newline counts), or null when it
   * has none. Reads backwards from the end, so a large segment costs only its last record.
   */
  public static @Nullable String lastLine(Path file) throws IOException {
    if (!Files.exists(file)) {
      return null;
    }
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long end = f.length();
      while (end > 0) { // skip trailing newlines
        f.seek(end - 1);
        if (f.read() != '\n') {
          break;
        }
        end--;
      }
      if (end == 0) {
        return null;
      }
      long start = end;
      byte[] buf = new byte[8192];
      while (start > 0) {
        int n = (int) Math.min(buf.length, start);
        f.seek(start - n);
        f.readFully(buf, 0, n);
        int nl = -1;
        for (int i = n - 1; i >= 0; i--) {
          if (buf[i] == '\n') {
            nl = i;
            break;
          }
        }
        if (nl >= 0) {
          start = start - n + nl + 1;
          break;
        }
        start -= n;
      }
      byte[] line = new byte[(int) (end - start)];
      f.seek(start);
      f.readFully(line);
      return new String(line, StandardCharsets.UTF_8);
    }
  }
}
