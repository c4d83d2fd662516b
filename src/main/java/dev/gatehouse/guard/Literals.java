package dev.gatehouse.guard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A fixed set of literal strings found in one pass over a text (Aho-Corasick, as a full transition
 * table over the literals' own characters; any other character leads back to the root). Reports
 * every occurrence of every literal, overlapping ones included, so "the text contains L" and "L
 * starts at p" read exactly as {@link String#contains} and {@link String#indexOf(String, int)}
 * would. Immutable once built, and thread-safe; each scan returns its own {@link Hits}.
 */
final class Literals {

  private final String[] literals;

  /** Whether a literal's positions are kept (else only whether it occurs). */
  private final boolean[] positional;

  /** Character classes: 0 for a character in no literal. */
  private final int[] asciiClass = new int[128];

  private final char[] wideChars;
  private final int[] wideClass;

  /** Bits of a class number: the table has {@code 1 << shift} columns. */
  private final int shift;

  /**
   * The transition table, row {@code state << shift}, column the class: the next state, with the
   * top bit ({@link #OUT}) set when some literal ends in it. Two bytes an entry, so the table is
   * half the size it would be in ints: it is read at a random row per character, and on the request
   * path the rest of the gateway's work keeps evicting it from the cache.
   */
  private final char[] delta;

  private static final int OUT = 0x8000;

  /** The literals ending in each state (its own and those of its suffix states), by id. */
  private final int[][] out;

  private static final int[] NONE = new int[0];

  /** The ids of empty literals, which occur in every text. */
  private final int[] emptyIds;

  /**
   * Builds the scanner. Literal {@code i} gets id {@code i}; {@code positional[i]} says whether its
   * start positions are wanted. The empty literal is allowed and occurs in every text (as {@code
   * contains("")} is true), at no recorded position.
   */
  Literals(String[] literals, boolean[] positional) {
    this.literals = literals.clone();
    this.emptyIds =
        java.util.stream.IntStream.range(0, literals.length)
            .filter(i -> literals[i].isEmpty())
            .toArray();
    this.positional = positional.clone();
    TreeSet<Character> wide = new TreeSet<>();
    int nextClass = 1;
    for (String l : literals) {
      for (int i = 0; i < l.length(); i++) {
        char c = l.charAt(i);
        if (c < 128) {
          if (asciiClass[c] == 0) {
            asciiClass[c] = nextClass++;
          }
        } else {
          wide.add(c);
        }
      }
    }
    wideChars = new char[wide.size()];
    wideClass = new int[wide.size()];
    int w = 0;
    for (char c : wide) {
      wideChars[w] = c;
      wideClass[w++] = nextClass++;
    }
    int classes = nextClass;
    shift = 32 - Integer.numberOfLeadingZeros(Math.max(1, classes - 1));

    // The trie.
    List<Map<Integer, Integer>> next = new ArrayList<>();
    List<List<Integer>> ends = new ArrayList<>();
    next.add(new HashMap<>());
    ends.add(new ArrayList<>());
    for (int id = 0; id < literals.length; id++) {
      String l = literals[id];
      if (l.isEmpty()) {
        continue;
      }
      int s = 0;
      for (int i = 0; i < l.length(); i++) {
        int c = classOf(l.charAt(i));
        Integer t = next.get(s).get(c);
        if (t == null) {
          t = next.size();
          next.get(s).put(c, t);
          next.add(new HashMap<>());
          ends.add(new ArrayList<>());
        }
        s = t;
      }
      ends.get(s).add(id);
    }
    int states = next.size();
    int[] goTo = new int[states * classes];
    out = new int[states][];
    int[] fail = new int[states];
    // Breadth first: each state's transitions and outputs from its failure state's, already done.
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    out[0] = NONE;
    // Class 0 (a character in no literal) has no trie edge anywhere, so it leads back to the root.
    for (int c = 0; c < classes; c++) {
      Integer t = next.get(0).get(c);
      if (t != null) {
        goTo[c] = t;
        fail[t] = 0;
        queue.add(t);
      }
    }
    while (!queue.isEmpty()) {
      int s = queue.poll();
      int[] own = ends.get(s).stream().mapToInt(Integer::intValue).toArray();
      int[] inherited = out[fail[s]];
      int[] all = Arrays.copyOf(own, own.length + inherited.length);
      System.arraycopy(inherited, 0, all, own.length, inherited.length);
      out[s] = all.length == 0 ? NONE : all;
      for (int c = 0; c < classes; c++) {
        Integer t = next.get(s).get(c);
        if (t != null) {
          fail[t] = goTo[fail[s] * classes + c];
          goTo[s * classes + c] = t;
          queue.add(t);
        } else {
          goTo[s * classes + c] = goTo[fail[s] * classes + c];
        }
      }
    }
    if (states > OUT) {
      throw new IllegalArgumentException(
          "too many literal states for the table: " + states + " (at most " + OUT + ")");
    }
    delta = new char[states << shift];
    for (int st = 0; st < states; st++) {
      for (int c = 0; c < classes; c++) {
        int t = goTo[st * classes + c];
        delta[(st << shift) | c] = (char) (out[t].length > 0 ? t | OUT : t);
      }
    }
  }

  private int classOf(char c) {
    if (c < 128) {
      return asciiClass[c];
    }
    int i = Arrays.binarySearch(wideChars, c);
    return i < 0 ? 0 : wideClass[i];
  }

  int size() {
    return literals.length;
  }

  String literal(int id) {
    return literals[id];
  }

  /** Every occurrence of the literals in {@code text}. */
  Hits scan(String text) {
    Hits h = new Hits(literals.length);
    for (int id : emptyIds) {
      h.see(id);
    }
    int n = text.length();
    char[] chars = new char[n];
    text.getChars(0, n, chars, 0);
    boolean anyWide = wideChars.length > 0;
    int s = 0;
    for (int i = 0; i < n; i++) {
      char c = chars[i];
      int cls = c < 128 ? asciiClass[c] : anyWide ? classOf(c) : 0;
      int d = delta[(s << shift) | cls];
      s = d & (OUT - 1);
      if (d >= OUT) {
        for (int id : out[s]) {
          h.see(id);
          if (positional[id]) {
            h.add(id, i - literals[id].length() + 1);
          }
        }
      }
    }
    return h;
  }

  /**
   * The literals found in one text: whether each occurs, and where the positional ones start. Its
   * cost follows what the text holds, not how many literals there are: a bitset of the literals
   * seen, and a small open-addressing map from a positional literal to its last occurrence, which
   * grows with the hits; a text with no positional literal in it allocates none of these.
   */
  static final class Hits {
    private static final int[] NONE = new int[0];

    /** The map's and the occurrence lists' first size, once a positional literal is found. */
    private static final int FIRST = 16;

    private final long[] seen;

    /**
     * Keys (literal id + 1; 0 is empty) and values (occurrence index) of the last-occurrence map.
     */
    private int[] keys = NONE;

    private int[] vals = NONE;
    private int size;
    private int[] pos = NONE;
    private int[] prev = NONE;
    private int count;

    Hits(int literals) {
      seen = new long[(literals + 63) >>> 6];
    }

    void see(int id) {
      seen[id >>> 6] |= 1L << id;
    }

    /** Whether the literal occurs in the text. */
    boolean seen(int id) {
      return (seen[id >>> 6] & (1L << id)) != 0;
    }

    /** The first literal id in {@code [from, to)} that occurs in the text, or -1. */
    int nextSeen(int from, int to) {
      if (from >= to) {
        return -1;
      }
      int w = from >>> 6;
      long word = seen[w] & (-1L << from);
      while (true) {
        if (word != 0) {
          int id = (w << 6) + Long.numberOfTrailingZeros(word);
          return id < to ? id : -1;
        }
        if (++w >= seen.length || (w << 6) >= to) {
          return -1;
        }
        word = seen[w];
      }
    }

    /**
     * Per reading (0: the text, 1: its rot13), a caller's summary of these hits, kept with them.
     */
    private final long[][] memo = new long[2][];

    long[] memo(int reading) {
      return memo[reading];
    }

    void memo(int reading, long[] value) {
      memo[reading] = value;
    }

    private void add(int id, int p) {
      if (count == pos.length) {
        int n = Math.max(FIRST, count * 2);
        pos = Arrays.copyOf(pos, n);
        prev = Arrays.copyOf(prev, n);
      }
      pos[count] = p;
      prev[count] = put(id, count);
      count++;
    }

    /** Maps {@code id} to occurrence {@code o}; returns the occurrence it replaces, or -1. */
    private int put(int id, int o) {
      if (2 * (size + 1) > keys.length) {
        grow();
      }
      int mask = keys.length - 1;
      int k = id + 1;
      for (int i = (k * 0x9E3779B9) >>> 16 & mask; ; i = (i + 1) & mask) {
        if (keys[i] == 0) {
          keys[i] = k;
          vals[i] = o;
          size++;
          return -1;
        }
        if (keys[i] == k) {
          int old = vals[i];
          vals[i] = o;
          return old;
        }
      }
    }

    private void grow() {
      int[] oldKeys = keys;
      int[] oldVals = vals;
      keys = new int[Math.max(FIRST, oldKeys.length * 2)];
      vals = new int[keys.length];
      size = 0;
      for (int i = 0; i < oldKeys.length; i++) {
        if (oldKeys[i] != 0) {
          put(oldKeys[i] - 1, oldVals[i]);
        }
      }
    }

    /** The last occurrence index of the literal, or -1. */
    private int last(int id) {
      if (size == 0) {
        return -1;
      }
      int mask = keys.length - 1;
      int k = id + 1;
      for (int i = (k * 0x9E3779B9) >>> 16 & mask; ; i = (i + 1) & mask) {
        if (keys[i] == 0) {
          return -1;
        }
        if (keys[i] == k) {
          return vals[i];
        }
      }
    }

    /** Where the literal starts in the text, last first (a positional literal only). */
    int[] starts(int id) {
      int k = 0;
      for (int o = last(id); o >= 0; o = prev[o]) {
        k++;
      }
      int[] r = new int[k];
      k = 0;
      for (int o = last(id); o >= 0; o = prev[o]) {
        r[k++] = pos[o];
      }
      return r;
    }

    /** The first occurrence index of the literal for {@link #next}, or -1. */
    int head(int id) {
      return last(id);
    }

    /** The occurrence after {@code o} (earlier in the text), or -1. */
    int next(int o) {
      return prev[o];
    }

    /** The position of occurrence {@code o}. */
    int at(int o) {
      return pos[o];
    }
  }
}
