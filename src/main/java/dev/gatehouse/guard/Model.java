package dev.gatehouse.guard;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;

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

  /** Reads a model file; a malformed one is refused whole. */
  public static Model read(InputStream in) throws IOException {
    BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    if (!"gatehouse-guard-model 1".equals(r.readLine())) {
      throw new IOException(
          "not a gatehouse guard model (expected: a first line gatehouse-guard-model 1)");
    }
    int dim = Integer.parseInt(value(r.readLine(), "dim"));
    if (dim != Features.DIM) {
      throw new IOException("guard model dim: " + dim + " (expected: " + Features.DIM + ")");
    }
    double bias = Double.parseDouble(value(r.readLine(), "bias"));
    double threshold = Double.parseDouble(value(r.readLine(), "threshold"));
    float[] w = new float[dim];
    for (String line = r.readLine(); line != null; line = r.readLine()) {
      int sp = line.indexOf(' ');
      if (sp < 0) {
        throw new IOException("guard model line: " + line + " (expected: index weight)");
      }
      int i = Integer.parseInt(line.substring(0, sp));
      if (i < 0 || i >= dim) {
        throw new IOException("guard model index: " + i + " (expected: 0-" + (dim - 1) + ")");
      }
      w[i] = Float.parseFloat(line.substring(sp + 1));
    }
    return new Model(w, bias, threshold);
  }

  private static String value(String line, String name) throws IOException {
    if (line == null || !line.startsWith(name + " ")) {
      throw new IOException("guard model: expected a line " + name + " VALUE, got " + line);
    }
    return line.substring(name.length() + 1);
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
