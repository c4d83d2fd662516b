package dev.gatehouse.integrity;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar for hashing, redrawn in place with a carriage return: {@code 42%
 * [######## ] 1.2 GiB of 2.8 GiB sha256-a80c4f17acd5...}. Redraws at most every 200 ms so that a
 * fast disk does not spend its time printing. One per run; not thread-safe.
 */
public final class ProgressBar implements StoreVerifier.Progress {

  private static final int WIDTH = 20;
  private static final long REDRAW_NANOS = 200_000_000L;

  private final PrintWriter out;
  private final LongSupplier nanos;
  private long total;
  private long done;
  private long lastDraw;
  private boolean drawn;

  public ProgressBar(PrintWriter out, LongSupplier nanos) {
    this.out = out;
    this.nanos = nanos;
  }

  @Override
  public void start(long totalBytes, int blobs) {
    this.total = totalBytes;
    this.done = 0;
  }

  @Override
  public void advance(long bytes, String blob) {
    done += bytes;
    long now = nanos.getAsLong();
    if (drawn && now - lastDraw < REDRAW_NANOS && done < total) {
      return;
    }
    lastDraw = now;
    drawn = true;
    int pct = total == 0 ? 100 : (int) Math.min(100, done * 100 / total);
    int fill = pct * WIDTH / 100;
    String name = blob.length() > 22 ? blob.substring(0, 19) + "..." : blob;
    out.print(
        String.format(
            Locale.ROOT,
            "\r%3d%% [%s%s] %s of %s  %-22s",
            pct,
            "#".repeat(fill),
            " ".repeat(WIDTH - fill),
            human(done),
            human(total),
            name));
    out.flush();
  }

  @Override
  public void done() {
    if (drawn) {
      out.println();
      out.flush();
    }
  }

  /** Bytes in binary units, one decimal: {@code 1.2 GiB}. */
  static String human(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
