package dev.gatehouse.guard;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Finds payloads hidden in an encoding (base64, hex, percent-encoding) and decodes them, so that an
 * instruction smuggled as {@code aWdub3JlIGFsbCBwcmV2aW91cw==} is read like the plain one. A
 * decoded payload counts only when it is readable text. Decoding is bounded: at most {@link
 * #MAX_DEPTH} levels of nesting and at most a given number of characters in all. Rot13 needs no
 * finding (any text may be rot13); see {@link #rot13}. Stateless and thread-safe.
 */
public final class Decoders {

  private Decoders() {}

  /** Levels of encoding inside encoding that are undone. */
  static final int MAX_DEPTH = 2;

  /** Most payloads decoded from one text. */
  private static final int MAX_PAYLOADS = 8;

  private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/_-]{16,}={0,2}");
  // The repetitions are possessive: java.util.regex runs a greedy group repetition by recursing
  // once per pass (256 passes overflowed a 256 KiB stack before the JIT had compiled the matcher),
  // a possessive one in a loop. They match the same: a pass can only end where the next pass
  // cannot start (a separator or up to three other characters are taken whenever present), so
  // giving a pass back never lets the pattern match more, and nothing follows the repetition.
  static final Pattern HEX = Pattern.compile("(?:[0-9a-fA-F]{2}[ :]?){12,256}+");
  static final Pattern PERCENT = Pattern.compile("(?:%[0-9a-fA-F]{2}[^%]{0,3}){6,256}+");

  /**
   * The readable payloads decoded from {@code text}, nested ones included, within {@code budget}
   * characters.
   */
  public static List<String> decode(String text, int budget) {
    List<String> out = new ArrayList<>();
    decode(text, 1, new int[] {budget}, out, false);
    return out;
  }

  /**
   * As {@link #decode(String, int)}, each pattern searched over the whole text: the reference for
   * {@code DecodersTest}.
   */
  static List<String> decodeByFullScan(String text, int budget) {
    List<String> out = new ArrayList<>();
    decode(text, 1, new int[] {budget}, out, true);
    return out;
  }

  private static void decode(
      String text, int depth, int[] budget, List<String> out, boolean fullScan) {
    if (depth > MAX_DEPTH || text.length() < 16) {
      return;
    }
    find(BASE64, text, depth, budget, out, Kind.BASE64, fullScan);
    find(HEX, text, depth, budget, out, Kind.HEX, fullScan);
    find(PERCENT, text, depth, budget, out, Kind.PERCENT, fullScan);
  }

  private enum Kind {
    BASE64,
    HEX,
    PERCENT
  }

  /**
   * Each pattern's matches use only some characters and are at least so long, so the pattern is run
   * only over the maximal runs of those characters that are long enough (for PERCENT: only when the
   * text holds six {@code %}). No pattern has an anchor, a boundary or a look-around, so it finds
   * the same matches, in the same order, as a search of the whole text: the text between the runs
   * cannot hold (part of) a match.
   */
  private static void find(
      Pattern p,
      String text,
      int depth,
      int[] budget,
      List<String> out,
      Kind kind,
      boolean fullScan) {
    Matcher m = p.matcher(text);
    int n = text.length();
    if (fullScan) {
      matches(m, depth, budget, out, kind, true);
      return;
    }
    if (kind == Kind.PERCENT) {
      int percents = 0;
      for (int i = 0; i < n; i++) {
        percents += text.charAt(i) == '%' ? 1 : 0;
      }
      if (percents >= 6) {
        matches(m, depth, budget, out, kind, false);
      }
      return;
    }
    int min = kind == Kind.BASE64 ? 16 : 24;
    int i = 0;
    while (i < n && out.size() < MAX_PAYLOADS && budget[0] > 0) {
      while (i < n && !runChar(kind, text.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < n && runChar(kind, text.charAt(i))) {
        i++;
      }
      if (i - start >= min) {
        m.region(start, i);
        matches(m, depth, budget, out, kind, false);
      }
    }
  }

  /** The characters a match of the kind's pattern is made of (BASE64 with its padding). */
  private static boolean runChar(Kind kind, char c) {
    boolean alnum = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
    if (kind == Kind.BASE64) {
      return alnum || c == '+' || c == '/' || c == '_' || c == '-' || c == '=';
    }
    return c >= '0' && c <= '9'
        || c >= 'a' && c <= 'f'
        || c >= 'A' && c <= 'F'
        || c == ' '
        || c == ':';
  }

  private static void matches(
      Matcher m, int depth, int[] budget, List<String> out, Kind kind, boolean fullScan) {
    while (m.find() && out.size() < MAX_PAYLOADS && budget[0] > 0) {
      String token = m.group();
      if (kind == Kind.BASE64 && !plausibleBase64(token)) {
        continue;
      }
      byte[] bytes =
          switch (kind) {
            case BASE64 -> base64(token);
            case HEX -> hex(token);
            case PERCENT -> percent(token);
          };
      String decoded = bytes == null ? null : readable(bytes);
      if (decoded == null) {
        continue;
      }
      if (decoded.length() > budget[0]) {
        decoded = decoded.substring(0, budget[0]);
      }
      budget[0] -= decoded.length();
      out.add(decoded);
      decode(decoded, depth + 1, budget, out, fullScan);
    }
  }

  /** Words and identifiers are not base64: a payload mixes cases and digits, or is long. */
  private static boolean plausibleBase64(String t) {
    boolean upper = false;
    boolean lower = false;
    boolean digit = false;
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      upper |= c >= 'A' && c <= 'Z';
      lower |= c >= 'a' && c <= 'z';
      digit |= c >= '0' && c <= '9';
    }
    return upper && lower && (digit || t.length() >= 24 || t.endsWith("="));
  }

  private static byte @Nullable [] base64(String token) {
    String t = token.replace('-', '+').replace('_', '/');
    int eq = t.indexOf('=');
    if (eq >= 0) {
      t = t.substring(0, eq);
    }
    t = t.substring(0, t.length() - (t.length() % 4 == 1 ? 1 : 0));
    try {
      return Base64.getDecoder().decode(t + "==".substring(0, (4 - t.length() % 4) % 4));
    } catch (IllegalArgumentException e) {
      return null; // not base64 after all
    }
  }

  private static byte[] hex(String token) {
    StringBuilder digits = new StringBuilder(token.length());
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (Character.digit(c, 16) >= 0) {
        digits.append(c);
      }
    }
    int n = digits.length() / 2;
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] =
          (byte)
              ((Character.digit(digits.charAt(2 * i), 16) << 4)
                  | Character.digit(digits.charAt(2 * i + 1), 16));
    }
    return b;
  }

  private static byte @Nullable [] percent(String token) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream(token.length());
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c == '%'
          && i + 2 < token.length()
          && Character.digit(token.charAt(i + 1), 16) >= 0
          && Character.digit(token.charAt(i + 2), 16) >= 0) {
        b.write(
            (Character.digit(token.charAt(i + 1), 16) << 4)
                | Character.digit(token.charAt(i + 2), 16));
        i += 2;
      } else if (c < 128) {
        b.write(c == '+' ? ' ' : c);
      } else {
        return null;
      }
    }
    return b.toByteArray();
  }

  /** The bytes as text when they are valid UTF-8 and mostly letters and spaces; else null. */
  private static @Nullable String readable(byte[] bytes) {
    if (bytes.length < 8) {
      return null;
    }
    String s;
    try {
      s =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    int letters = 0;
    int spaces = 0;
    int control = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isLetter(c)) {
        letters++;
      } else if (c == ' ') {
        spaces++;
      } else if (Character.isISOControl(c) && c != '\n' && c != '\t' && c != '\r') {
        control++;
      }
    }
    return control == 0 && letters * 10 >= s.length() * 6 && spaces > 0 ? s : null;
  }

  /** Rot13 of ASCII letters; other characters stay. */
  public static String rot13(String s) {
    char[] c = s.toCharArray();
    for (int i = 0; i < c.length; i++) {
      char ch = c[i];
      if (ch >= 'a' && ch <= 'z') {
        c[i] = (char) ('a' + (ch - 'a' + 13) % 26);
      } else if (ch >= 'A' && ch <= 'Z') {
        c[i] = (char) ('A' + (ch - 'A' + 13) % 26);
      }
    }
    return new String(c);
  }
}
