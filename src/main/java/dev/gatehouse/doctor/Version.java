package dev.gatehouse.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A release version as model servers print it, comparable so that advisories can be matched:
 * {@code 0.1.33 < 0.1.34 < 0.12.3}, {@code 0.6.8-rc1 < 0.6.8 < 0.6.8.post1}. Accepts a leading
 * {@code v} (LocalAI: {@code v2.20.1 (commit)}) and llama.cpp's build numbers ({@code b4500}).
 * Missing trailing parts are zeros ({@code 0.2 == 0.2.0}). Immutable.
 *
 * @param numbers the dotted numeric parts
 * @param pre a pre-release tag such as {@code rc1}, or empty for a release
 * @param post true for a post-release ({@code .post1}), which sorts after its release
 * @param text the version as given
 */
public record Version(List<Integer> numbers, String pre, boolean post, String text) implements Comparable<Version> {

  private static final Pattern SHAPE = Pattern.compile("[vVbB]?([0-9]+(?:\\.[0-9]+)*)(.*)");

  public Version {
    numbers = List.copyOf(numbers);
  }

  /** Parses a version; null when the text does not start with a number (after v or b). */
  public static Version parse(String text) {
    if (text == null) {
      return null;
    }
    String t = text.trim();
    Matcher m = SHAPE.matcher(t);
    if (!m.matches()) {
      return null;
    }
    List<Integer> numbers = new ArrayList<>();
    for (String part : m.group(1).split("\\.")) {
      if (part.length() > 9) {
        return null; // not a version number anyone prints; refuse rather than overflow
      }
      numbers.add(Integer.parseInt(part));
    }
    String rest = m.group(2);
    String pre = "";
    boolean post = false;
    if (!rest.isEmpty() && !rest.startsWith(" ") && !rest.startsWith("+")) {
      // Whatever follows the numbers up to a space: "-rc1", ".post1", "rc2", "-dev".
      String tag = rest.replaceFirst("^[-._]", "").split("[ +]", 2)[0].toLowerCase(Locale.ROOT);
      if (tag.startsWith("post")) {
        post = true;
      } else if (!tag.isEmpty()) {
        pre = tag;
      }
    }
    return new Version(numbers, pre, post, t);
  }

  @Override
  public int compareTo(Version o) {
    int n = Math.max(numbers.size(), o.numbers.size());
    for (int i = 0; i < n; i++) {
      int a = i < numbers.size() ? numbers.get(i) : 0;
      int b = i < o.numbers.size() ? o.numbers.get(i) : 0;
      if (a != b) {
        return Integer.compare(a, b);
      }
    }
    int rank = Integer.compare(rank(), o.rank());
    if (rank != 0 || pre.isEmpty()) {
      return rank;
    }
    return natural(pre, o.pre);
  }

  /** Pre-release sorts before the release, a post-release after it. */
  private int rank() {
    return post ? 2 : pre.isEmpty() ? 1 : 0;
  }

  /** Compares tags like {@code rc2} and {@code rc10} by their numbers, not their characters. */
  private static int natural(String a, String b) {
    Matcher ma = Pattern.compile("([a-z]*)([0-9]*)").matcher(a);
    Matcher mb = Pattern.compile("([a-z]*)([0-9]*)").matcher(b);
    if (ma.lookingAt() && mb.lookingAt()) {
      int word = ma.group(1).compareTo(mb.group(1));
      if (word != 0) {
        return word;
      }
      long na = ma.group(2).isEmpty() ? 0 : Long.parseLong(ma.group(2).substring(0, Math.min(18, ma.group(2).length())));
      long nb = mb.group(2).isEmpty() ? 0 : Long.parseLong(mb.group(2).substring(0, Math.min(18, mb.group(2).length())));
      if (na != nb) {
        return Long.compare(na, nb);
      }
    }
    return a.compareTo(b);
  }

  @Override
  public String toString() {
    return text;
  }
}
