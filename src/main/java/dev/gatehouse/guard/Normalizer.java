package dev.gatehouse.guard;

import java.text.Normalizer.Form;

/**
 * Folds text into the one form the rules and the scorer read, so that the same words written in
 * another way look the same: Unicode NFKC (full-width and styled letters become plain ones), format
 * characters dropped (zero-width spaces and joiners, bidi controls, soft hyphens, tag characters),
 * lower case, Cyrillic and Greek look-alikes inside Latin words mapped to the Latin letter,
 * leetspeak digits inside words read as letters ({@code 1gn0re}), letters spaced out one by one
 * joined ({@code i g n o r e}), and runs of white space made one space.
 *
 * <p>Stateless and thread-safe. The output is for matching only and never forwarded.
 */
public final class Normalizer {

  private Normalizer() {}

  /** Cyrillic and Greek letters that render like a Latin one, as (from, to) pairs. */
  private static final String CONFUSABLES =
      // Cyrillic lower and upper case
      "аaеeоoрpсcуyхxіiјjѕsԁdһhкkмmтtвbнhгrАaВbЕeКkМmНhОoРpСcТtХxУyІiЈjЅs"
          // Greek lower and upper case
          + "αaοoεeιiκkνvρpτtυuχxβbγyηnμuωwΑaΒbΕeΖzΗhΙiΚkΜmΝnΟoΡpΤtΥyΧx";

  private static final char[] CONFUSABLE_TO = new char[0x530];

  static {
    // Filled once at class load and never written again: a constant table, not mutable state.
    for (int i = 0; i + 1 < CONFUSABLES.length(); i += 2) {
      CONFUSABLE_TO[CONFUSABLES.charAt(i)] = CONFUSABLES.charAt(i + 1);
    }
  }

  /** The folded form of {@code text}; see the class comment for what it does. */
  public static String fold(String text) {
    String nfkc =
        java.text.Normalizer.isNormalized(text, Form.NFKC)
            ? text
            : java.text.Normalizer.normalize(text, Form.NFKC);
    int len = nfkc.length();
    char[] in = new char[len];
    nfkc.getChars(0, len, in, 0);
    char[] b = new char[len + 2];
    int n = 0;
    boolean space = true; // drop leading white space
    for (int i = 0; i < len; ) {
      char ch = in[i];
      if (n + 2 > b.length) {
        b = java.util.Arrays.copyOf(b, b.length + 16); // only if some lower case took more chars
      }
      if (ch < 128) {
        i++;
        if (asciiSpace(ch)) {
          if (!space) {
            b[n++] = ' ';
            space = true;
          }
        } else {
          space = false;
          b[n++] = ch >= 'A' && ch <= 'Z' ? (char) (ch + 32) : ch;
        }
        continue;
      }
      int cp = Character.codePointAt(in, i);
      i += Character.charCount(cp);
      if (invisible(cp)) {
        continue;
      }
      if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
        if (!space) {
          b[n++] = ' ';
          space = true;
        }
        continue;
      }
      space = false;
      n += Character.toChars(Character.toLowerCase(cp), b, n);
    }
    if (n > 0 && b[n - 1] == ' ') {
      n--;
    }
    foldWords(b, n);
    return joinSpacedLetters(b, n);
  }

  /**
   * Text with only invisible characters removed and NFKC applied: what template tokens are matched
   * on.
   */
  public static String visible(String text) {
    String nfkc =
        java.text.Normalizer.isNormalized(text, Form.NFKC)
            ? text
            : java.text.Normalizer.normalize(text, Form.NFKC);
    StringBuilder b = null;
    for (int i = 0; i < nfkc.length(); ) {
      int cp = nfkc.codePointAt(i);
      int next = i + Character.charCount(cp);
      if (invisible(cp)) {
        if (b == null) {
          b = new StringBuilder(nfkc.length()).append(nfkc, 0, i);
        }
      } else if (b != null) {
        b.appendCodePoint(cp);
      }
      i = next;
    }
    return b == null ? nfkc : b.toString();
  }

  /** Format characters (Cf: zero-width, bidi, tags, soft hyphen) and variation selectors. */
  static boolean invisible(int cp) {
    if (cp < 0xAD) {
      return false;
    }
    int type = Character.getType(cp);
    return type == Character.FORMAT
        || (cp >= 0xFE00 && cp <= 0xFE0F)
        || (cp >= 0xE0100 && cp <= 0xE01EF)
        || cp == 0x115F
        || cp == 0x1160
        || cp == 0x3164
        || cp == 0xFFA0
        || cp == 0x034F;
  }

  /**
   * Within each word: look-alike letters become Latin when the word also holds a Latin letter (or
   * consists of look-alikes only), and leetspeak digits become letters when the word also holds a
   * letter. A word of only digits (a number) stays as it is.
   */
  private static void foldWords(char[] b, int n) {
    int start = 0;
    while (start < n) {
      while (start < n && !wordChar(b[start])) {
        start++;
      }
      int end = start;
      boolean latin = false;
      boolean confusableOnly = true;
      boolean letter = false;
      boolean digit = false;
      while (end < n && wordChar(b[end])) {
        char c = b[end];
        if (c >= 'a' && c <= 'z') {
          latin = true;
          letter = true;
        } else if (c < CONFUSABLE_TO.length && CONFUSABLE_TO[c] != 0) {
          letter = true;
        } else if (letter(c)) {
          letter = true;
          confusableOnly = false;
        } else if (leet(c) != 0) {
          digit = true;
        }
        end++;
      }
      if (end > start) {
        boolean mapConfusables = latin || confusableOnly;
        for (int i = start; i < end; i++) {
          char c = b[i];
          if (mapConfusables && c < CONFUSABLE_TO.length && CONFUSABLE_TO[c] != 0) {
            b[i] = CONFUSABLE_TO[c];
          } else if (letter && digit && leet(c) != 0) {
            b[i] = leet(c);
          }
        }
      }
      start = end;
    }
  }

  private static boolean wordChar(char c) {
    if (c < 128) {
      return (char) ((c | 0x20) - 'a') < 26 || (char) (c - '0') < 10 || c == '@' || c == '$';
    }
    return Character.isLetterOrDigit(c);
  }

  /** {@link Character#isLetter(char)}, without the table look-up for ASCII. */
  private static boolean letter(char c) {
    return c < 128 ? (char) ((c | 0x20) - 'a') < 26 : Character.isLetter(c);
  }

  /** {@link Character#isWhitespace(int)} or {@link Character#isSpaceChar(int)}, for ASCII. */
  private static boolean asciiSpace(int c) {
    return c == ' ' || c >= 0x09 && c <= 0x0D || c >= 0x1C && c <= 0x1F;
  }

  private static char leet(char c) {
    return switch (c) {
      case '0' -> 'o';
      case '1' -> 'i';
      case '3' -> 'e';
      case '4', '@' -> 'a';
      case '5', '$' -> 's';
      case '7' -> 't';
      default -> 0;
    };
  }

  /**
   * Joins letters written one by one with a separator ({@code i g n o r e}, {@code i.g.n.o.r.e},
   * {@code i-g-n-o-r-e}): runs of at least four single letters become one word.
   */
  private static String joinSpacedLetters(char[] b, int n) {
    StringBuilder out = null;
    int copied = 0;
    int i = 0;
    while (i < n) {
      if (!single(b, n, i)) {
        i++;
        continue;
      }
      int k = i;
      int count = 1;
      while (k + 2 < n && separator(b[k + 1]) && single(b, n, k + 2)) {
        k += 2;
        count++;
      }
      if (count >= 4) {
        if (out == null) {
          out = new StringBuilder(n);
        }
        out.append(b, copied, i - copied);
        for (int j = i; j <= k; j += 2) {
          out.append(b[j]);
        }
        copied = k + 1;
      }
      i = k + 1;
    }
    if (out == null) {
      return new String(b, 0, n);
    }
    out.append(b, copied, n - copied);
    return out.toString();
  }

  /** A letter with no letter on either side. */
  private static boolean single(char[] b, int n, int i) {
    return letter(b[i]) && (i == 0 || !letter(b[i - 1])) && (i + 1 >= n || !letter(b[i + 1]));
  }

  private static boolean separator(char c) {
    return c == ' ' || c == '.' || c == '-' || c == '_' || c == '*' || c == ',' || c == '|'
        || c == '/';
  }
}
