package dev.gatehouse.guard;

import java.util.Set;

/**
 * The scorer's features, hashed into {@link #DIM} buckets: character 3- to 5-grams of the folded
 * text (they carry over between languages and scripts, and survive inflection and typos), word
 * unigrams and bigrams, and one indicator per rule family that fired.
 *
 * <p>The n-gram and word features of a text share one weight, {@code 1/sqrt(count)}, so a long text
 * does not score higher for being long. The same code computes features for training and at run
 * time, so the shipped model and the detector cannot disagree. Stateless and thread-safe.
 */
public final class Features {

  private Features() {}

  /** Number of hash buckets; a power of two. */
  public static final int DIM = 1 << 18;

  private static final int MASK = DIM - 1;

  /** Receives features one at a time; the same index may come more than once. */
  public interface Sink {
    void add(int index, double value);
  }

  private static final int FNV_PRIME = 16777619;
  private static final int CHAR_SEED = 0x811C9DC5;
  private static final int WORD_SEED = 0x3B9ACA07;
  private static final int FAMILY_SEED = 0x1B873593;

  /** Feeds the features of the folded texts and families to {@code sink}. */
  public static void of(Set<Family> families, Sink sink, String... folded) {
    int count = 0;
    for (String t : folded) {
      count += countTextFeatures(t);
    }
    double v = count == 0 ? 0 : 1.0 / Math.sqrt(count);
    for (String t : folded) {
      charGrams(t, v, sink);
      words(t, v, sink);
    }
    for (Family f : families) {
      sink.add(familyIndex(f), 1.0);
    }
  }

  /** The bucket of a family's indicator. */
  public static int familyIndex(Family f) {
    return mix(hash(FAMILY_SEED, f.code));
  }

  private static int countTextFeatures(String t) {
    int n = t.length() + 2;
    int grams = Math.max(0, n - 2) + Math.max(0, n - 3) + Math.max(0, n - 4);
    int words = 0;
    boolean in = false;
    for (int i = 0; i < t.length(); i++) {
      boolean w = letterOrDigit(t.charAt(i));
      if (w && !in) {
        words++;
      }
      in = w;
    }
    return grams + words + Math.max(0, words - 1);
  }

  /**
   * Character 3- to 5-grams of the text padded with a space on each side, each start position's 3-,
   * 4- and 5-gram in turn (the 4- and 5-gram only where the padded text is long enough).
   */
  private static void charGrams(String t, double v, Sink sink) {
    int n = t.length() + 2;
    char[] p = new char[n];
    p[0] = ' ';
    t.getChars(0, t.length(), p, 1);
    p[n - 1] = ' ';
    for (int s = 0; s + 3 <= n; s++) {
      int h = (CHAR_SEED ^ p[s]) * FNV_PRIME;
      h = (h ^ p[s + 1]) * FNV_PRIME;
      h = (h ^ p[s + 2]) * FNV_PRIME;
      sink.add(mix(h), v);
      if (s + 4 <= n) {
        h = (h ^ p[s + 3]) * FNV_PRIME;
        sink.add(mix(h), v);
        if (s + 5 <= n) {
          h = (h ^ p[s + 4]) * FNV_PRIME;
          sink.add(mix(h), v);
        }
      }
    }
  }

  private static void words(String t, double v, Sink sink) {
    int prev = 0;
    boolean havePrev = false;
    int i = 0;
    int n = t.length();
    while (i < n) {
      while (i < n && !letterOrDigit(t.charAt(i))) {
        i++;
      }
      if (i >= n) {
        break;
      }
      int h = WORD_SEED;
      char c;
      while (i < n && letterOrDigit(c = t.charAt(i))) {
        h = (h ^ c) * FNV_PRIME;
        i++;
      }
      sink.add(mix(h), v);
      if (havePrev) {
        sink.add(mix(prev * 31 + h + 0x2545F491), v);
      }
      prev = h;
      havePrev = true;
    }
  }

  /** {@link Character#isLetterOrDigit(char)}, without the table look-up for ASCII. */
  private static boolean letterOrDigit(char c) {
    if (c < 128) {
      return (char) ((c | 0x20) - 'a') < 26 || (char) (c - '0') < 10;
    }
    return Character.isLetterOrDigit(c);
  }

  private static int hash(int seed, String s) {
    int h = seed;
    for (int i = 0; i < s.length(); i++) {
      h = (h ^ s.charAt(i)) * FNV_PRIME;
    }
    return h;
  }

  /** Spreads the hash's bits before taking the bucket (FNV's low bits are weak). */
  private static int mix(int h) {
    h ^= h >>> 16;
    h *= 0x85EBCA6B;
    h ^= h >>> 13;
    h *= 0xC2B2AE35;
    h ^= h >>> 16;
    return h & MASK;
  }
}
