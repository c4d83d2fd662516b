package dev.gatehouse.guard;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The learned scorer: logistic regression over {@link Features}, read from a text file (the one
 * shipped in the jar is {@code dev/gatehouse/guard/model.txt}, written by {@code
 * scripts/train-guard.sh}). Immutable once loaded, and thread-safe: the weights are never written
 * after the constructor and never handed out.
 *
 * <p>The file: a header line {@code gatehouse-guard-model 1}, then {@code dim N}, {@code bias B},
 * {@code threshold T}, then one {@code index weight} line per non-zero weight, by index.
 */
public final class Model {

  /** The shipped model's resource name. */
  public static final String RESOURCE = "/dev/gatehouse/guard/model.txt";

  private final float[] weights;
  private final double bias;
  private final double threshold;

  private Model(float[] weights, double bias, double threshold) {
    this.weights = weights;
    this.bias = bias;
    this.threshold = threshold;
  }

  /** The model shipped in the jar. */
  public static Model shipped() {
    try (InputStream in = Model.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("the guard model " + RESOURCE + " is missing from the jar");
      }
      return read(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads a model file; a malformed one is refused whole. The weight lines are read from the bytes
   * without making a string of each (the shipped file has about 150,000 of them, and reading them
   * through {@code readLine} and {@code Float.parseFloat} made about a third of what start-up
   * allocated); a line {@link #decimal} cannot read exactly goes the string way, with its errors.
   */
  public static Model read(InputStream in) throws IOException {
    byte[] text = in.readAllBytes();
    Lines lines = new Lines(text);
    if (!"gatehouse-guard-model 1".equals(lines.next())) {
      throw new IOException(
          "not a gatehouse guard model (expected: a first line gatehouse-guard-model 1)");
    }
    int dim = Integer.parseInt(value(lines.next(), "dim"));
    if (dim != Features.DIM) {
      throw new IOException("guard model dim: " + dim + " (expected: " + Features.DIM + ")");
    }
    double bias = Double.parseDouble(value(lines.next(), "bias"));
    double threshold = Double.parseDouble(value(lines.next(), "threshold"));
    float[] w = new float[dim];
    while (lines.more()) {
      int from = lines.at;
      int to = lines.skip();
      int sp = from;
      int i = 0;
      while (sp < to && sp - from < 9 && text[sp] >= '0' && text[sp] <= '9') {
        i = i * 10 + (text[sp++] - '0');
      }
      float v = sp > from && sp < to && text[sp] == ' ' ? decimal(text, sp + 1, to) : Float.NaN;
      if (Float.isNaN(v) || i >= dim) {
        weightLine(new String(text, from, to - from, StandardCharsets.UTF_8), w);
      } else {
        w[i] = v;
      }
    }
    return new Model(w, bias, threshold);
  }

  /** One weight line read through strings, as the file's format defines it. */
  private static void weightLine(String line, float[] w) throws IOException {
    int sp = line.indexOf(' ');
    if (sp < 0) {
      throw new IOException("guard model line: " + line + " (expected: index weight)");
    }
    int i = Integer.parseInt(line.substring(0, sp));
    if (i < 0 || i >= w.length) {
      throw new IOException("guard model index: " + i + " (expected: 0-" + (w.length - 1) + ")");
    }
    w[i] = Float.parseFloat(line.substring(sp + 1));
  }

  private static final float[] POWERS_OF_TEN = {
    1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f
  };

  /**
   * The float {@code Float.parseFloat} reads from {@code a[from, to)} when that is a plain decimal
   * ({@code -?digits(.digits)?}) of at most 24 significant bits with at most 10 decimals, else NaN
   * (the caller then asks {@code Float.parseFloat}). Such a decimal is an integer {@code m} over
   * {@code 10^k}, both exact in a float, so one float division gives the correctly rounded value,
   * the same float to the bit (Clinger's fast path).
   */
  static float decimal(byte[] a, int from, int to) {
    int k = from;
    boolean negative = k < to && a[k] == '-';
    if (negative) {
      k++;
    }
    long m = 0;
    int decimals = -1; // -1 until the point
    int digits = 0;
    for (; k < to; k++) {
      byte c = a[k];
      if (c == '.' && decimals < 0 && digits > 0) {
        decimals = 0;
      } else if (c >= '0' && c <= '9') {
        m = m * 10 + (c - '0');
        digits++;
        if (decimals >= 0) {
          decimals++;
        }
        if (m >= 1 << 24 || decimals >= POWERS_OF_TEN.length) {
          return Float.NaN;
        }
      } else {
        return Float.NaN;
      }
    }
    if (digits == 0 || decimals == 0) {
      return Float.NaN; // no digits, or none after the point: left to Float.parseFloat
    }
    float v = (float) m / POWERS_OF_TEN[Math.max(decimals, 0)];
    return negative ? -v : v;
  }

  /** The lines of a file's bytes, ended as {@code BufferedReader.readLine} ends them. */
  private static final class Lines {
    private final byte[] text;
    int at;

    Lines(byte[] text) {
      this.text = text;
    }

    boolean more() {
      return at < text.length;
    }

    /** Moves past the current line and returns where its text ends. */
    int skip() {
      int end = at;
      while (end < text.length && text[end] != '\n' && text[end] != '\r') {
        end++;
      }
      at = end;
      if (at < text.length && text[at++] == '\r' && at < text.length && text[at] == '\n') {
        at++;
      }
      return end;
    }

    /** The next line as text, or null at the end. */
    @Nullable String next() {
      if (!more()) {
        return null;
      }
      int from = at;
      return new String(text, from, skip() - from, StandardCharsets.UTF_8);
    }
  }

  private static String value(@Nullable String line, String name) throws IOException {
    if (line == null || !line.startsWith(name + " ")) {
      throw new IOException("guard model: expected a line " + name + " VALUE, got " + line);
    }
    return line.substring(name.length() + 1);
  }

  /** The weight of feature {@code index} (for tests: the readers agree to the bit). */
  float weight(int index) {
    return weights[index];
  }

  /** The score the model gives the folded texts with these families, from 0 to 1. */
  public double score(Set<Family> families, String... folded) {
    Dot dot = new Dot(weights, bias);
    Features.of(families, dot, folded);
    return 1.0 / (1.0 + Math.exp(-dot.sum));
  }

  /**
   * The weighted sum, added up in the order the features come (so the same sum, to the bit, every
   * time).
   */
  private static final class Dot implements Features.Sink {
    private final float[] weights;
    private double sum;

    Dot(float[] weights, double bias) {
      this.weights = weights;
      this.sum = bias;
    }

    @Override
    public void add(int index, double value) {
      sum += weights[index] * value;
    }
  }

  /** The score at and above which a text is flagged. */
  public double threshold() {
    return threshold;
  }
}
