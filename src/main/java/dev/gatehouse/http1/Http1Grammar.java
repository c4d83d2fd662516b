package dev.gatehouse.http1;

import io.netty.buffer.ByteBuf;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The strict HTTP/1.1 grammar (RFC 9112, RFC 9110 §5) that both framing checks read by: the client
 * side ({@code listen/StrictFraming}) and the upstream side ({@code upstream/UpstreamFraming}).
 * Pure functions over a head collected in a byte array, read in place; no state.
 */
public final class Http1Grammar {

  private Http1Grammar() {}

  /**
   * What the field lines of one head (or trailer section) say about framing: how often each framing
   * field appears, and where the last one's value (without the white space around it) stands in the
   * head. The values are read in place; no string is made unless asked for.
   */
  public static final class Fields {
    @SuppressWarnings("NullAway.Init") // set by the parse that fills these fields, before any read
    private byte[] src;

    public int transferEncodings;
    private int teFrom;
    private int teTo;
    public int contentLengths;
    private int clFrom;
    private int clTo;
    public int hosts;

    /** Field lines read, the blank line not counted. */
    public int lines;

    private int hostFrom;
    private int hostTo;

    /** Whether any field that frames or routes a message is present (never allowed in trailers). */
    public boolean framingOrRouting() {
      return transferEncodings + contentLengths + hosts > 0;
    }

    /** Whether the Transfer-Encoding value is exactly one {@code chunked} coding (any case). */
    public boolean chunkedOnly() {
      return equalsIgnoreCase(src, teFrom, teTo, "chunked");
    }

    /** The Content-Length value read by {@link Http1Grammar#contentLength}; -1 if it is not one. */
    public long contentLengthValue() {
      return contentLength(src, clFrom, clTo);
    }

    /** The Host value. */
    public String host() {
      return new String(src, hostFrom, hostTo - hostFrom, StandardCharsets.ISO_8859_1);
    }

    /** Where the Host value starts and ends in the head. */
    public int hostFrom() {
      return hostFrom;
    }

    public int hostTo() {
      return hostTo;
    }
  }

  /**
   * Checks the field lines of {@code line[from, length)} up to the blank line, collecting the
   * framing fields in {@code into}. Returns why they are malformed, or null: CRLF line ends only,
   * no obs-fold, token names with no white space before the colon, and no control character (other
   * than tab) in a value. One pass: each name byte is looked up once, and values are scanned eight
   * bytes at a time for the control character that ends them.
   */
  public static @Nullable String fields(byte[] line, int from, int length, Fields into) {
    into.src = line;
    int i = from;
    while (true) {
      if (i >= length) {
        return "bare CR or LF in a header line";
      }
      byte first = line[i];
      if (first == '\r') {
        return i + 1 < length && line[i + 1] == '\n'
            ? null
            : "bare CR or LF in a header line"; // the blank line
      }
      if (first == ' ' || first == '\t') {
        return "obs-fold (a header line starting with white space)";
      }
      int colon = i;
      while (colon < length && isTchar(line[colon])) {
        colon++;
      }
      if (colon == i) {
        return "header line without a field name";
      }
      if (colon >= length || line[colon] != ':') {
        return colon < length && line[colon] != '\r' && line[colon] != '\n'
            ? "header name is not a token (or white space before the colon)"
            : "header line without a colon";
      }
      // the value runs to the first control character other than tab, which must be CR LF
      int eol = colon + 1;
      while (true) {
        eol = firstControl(line, eol, length);
        if (eol < length && line[eol] == '\t') {
          eol++;
          continue;
        }
        break;
      }
      if (eol >= length || line[eol] != '\r' || eol + 1 >= length || line[eol + 1] != '\n') {
        return eol < length && line[eol] != '\r' && line[eol] != '\n'
            ? "control character in a header value"
            : "bare CR or LF in a header line";
      }
      int nameLength = colon - i;
      if (nameLength == 17 && is(line, i, nameLength, "transfer-encoding")) {
        into.transferEncodings++;
        into.teFrom = trimStart(line, colon + 1, eol);
        into.teTo = trimEnd(line, into.teFrom, eol);
      } else if (nameLength == 14 && is(line, i, nameLength, "content-length")) {
        into.contentLengths++;
        into.clFrom = trimStart(line, colon + 1, eol);
        into.clTo = trimEnd(line, into.clFrom, eol);
      } else if (nameLength == 4 && is(line, i, nameLength, "host")) {
        into.hosts++;
        into.hostFrom = trimStart(line, colon + 1, eol);
        into.hostTo = trimEnd(line, into.hostFrom, eol);
      }
      into.lines++;
      i = eol + 2;
    }
  }

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  /**
   * The index of the first byte in {@code a[from, to)} below 0x20 or equal to 0x7f (a control
   * character, tab, CR and LF included), or {@code to}.
   */
  public static int firstControl(byte[] a, int from, int to) {
    return firstBelowOrDel(a, from, to, 0x20);
  }

  /**
   * The index of the first space or control character in {@code a[from, to)}, or {@code to}: where
   * a request target ends.
   */
  public static int firstSpaceOrControl(byte[] a, int from, int to) {
    return firstBelowOrDel(a, from, to, 0x21);
  }

  /**
   * The index of the first byte below {@code n} (at most 128) or equal to 0x7f, or {@code to}.
   * Eight bytes at a time: a word holds a byte below {@code n} exactly when {@code (x - n*ONES) &
   * ~x & HIGHS} is not zero, and a byte equal to 0x7f when the same test for zero holds of {@code x
   * ^ 0x7f*ONES}.
   */
  private static int firstBelowOrDel(byte[] a, int from, int to, int n) {
    long below = n * ONES;
    int k = from;
    while (k + 8 <= to) {
      long x = (long) LONGS.get(a, k);
      long del = x ^ 0x7f7f7f7f7f7f7f7fL;
      long hit = (((x - below) & ~x) | ((del - ONES) & ~del)) & HIGHS;
      if (hit != 0) {
        break; // one is in this word; the loop below finds it
      }
      k += 8;
    }
    for (; k < to; k++) {
      int c = a[k] & 0xff;
      if (c < n || c == 0x7f) {
        return k;
      }
    }
    return to;
  }

  /**
   * A framer's line buffer while it collects nothing: no bytes, shared by every connection, since
   * nothing can be written into it. A connection that waits for its next head holds no buffer.
   */
  public static final byte[] NO_LINE = new byte[0];

  /** The first size of a line buffer: a whole chunk-size line, and most of a head. */
  private static final int FIRST_LINE = 256;

  /**
   * A line buffer that holds {@code need} bytes (at most {@code max}): {@code line} when it does,
   * else a copy of it twice as large, at least {@value #FIRST_LINE} bytes and {@code need}, and at
   * most {@code max}.
   */
  public static byte[] room(byte[] line, int need, int max) {
    if (need <= line.length) {
      return line;
    }
    return java.util.Arrays.copyOf(
        line, Math.min(max, Math.max(Math.max(line.length * 2, FIRST_LINE), need)));
  }

  /** Result of {@link #sectionEnd}: the blank line is not in this buffer yet. */
  public static final int SECTION_OPEN = -1;

  /** Result of {@link #sectionEnd}: a LF that does not follow a CR. */
  public static final int SECTION_BARE_LF = -2;

  /**
   * Finds the blank line that ends a head or trailer section in {@code buf[from, to)}, where the
   * section's first {@code collected} bytes were read before and are in {@code line}. Returns the
   * index just past the blank line's LF, {@link #SECTION_OPEN} or {@link #SECTION_BARE_LF}. A
   * section that starts with CRLF ends there (an empty line before a request line, or no trailers).
   * Only line ends are looked at here; {@link #fields} checks the lines.
   */
  public static int sectionEnd(ByteBuf buf, int from, int to, byte[] line, int collected) {
    int i = from;
    while (true) {
      int lf = buf.indexOf(i, to, (byte) '\n');
      if (lf < 0) {
        return SECTION_OPEN;
      }
      if (at(buf, from, line, collected, lf - 1) != '\r') {
        return SECTION_BARE_LF;
      }
      // the line is empty when its CR is the section's first byte or follows the last line's LF
      int before = at(buf, from, line, collected, lf - 2);
      if (before == '\n' || before == NONE) {
        return lf + 1;
      }
      i = lf + 1;
    }
  }

  private static final int NONE = -1;

  /**
   * The section's byte at buffer index {@code k}: from the buffer, from what was collected before,
   * or NONE before the start.
   */
  private static int at(ByteBuf buf, int from, byte[] line, int collected, int k) {
    if (k >= from) {
      return buf.getByte(k);
    }
    int j = collected - (from - k);
    return j >= 0 ? line[j] : NONE;
  }

  /**
   * A Content-Length value {@code a[from, to)}: 1-19 digits and nothing else (no sign, no list, no
   * white space inside); -1 for anything else, and for a number past {@code Long.MAX_VALUE}.
   */
  public static long contentLength(byte[] a, int from, int to) {
    int n = to - from;
    if (n <= 0 || n > 19) {
      return -1;
    }
    long v = 0;
    for (int k = from; k < to; k++) {
      int d = a[k] - '0';
      if (d < 0 || d > 9) {
        return -1;
      }
      if (v > (Long.MAX_VALUE - d) / 10) {
        return -1; // past Long.MAX_VALUE: refused rather than wrapped
      }
      v = v * 10 + d;
    }
    return v;
  }

  /** {@link #contentLength(byte[], int, int)} of a string. */
  public static long contentLength(String value) {
    byte[] b = value.getBytes(StandardCharsets.ISO_8859_1);
    for (int k = 0; k < value.length(); k++) {
      if (value.charAt(k) > 0xff) {
        return -1;
      }
    }
    return contentLength(b, 0, b.length);
  }

  /** Result of {@link #chunkSize}: the line is not {@code 1*16HEXDIG CRLF}. */
  public static final long CHUNK_MALFORMED = -1;

  /** Result of {@link #chunkSize}: more than 16 hex digits. */
  public static final long CHUNK_TOO_MANY_DIGITS = -2;

  /** Result of {@link #chunkSize}: the size does not fit in a signed 64-bit number. */
  public static final long CHUNK_OVERFLOW = -3;

  /**
   * A chunk-size line {@code line[0, length)} that ends in CRLF, read exactly: 1-16 hex digits with
   * no extension, sign or white space. Returns the size, or one of the negative results.
   */
  public static long chunkSize(byte[] line, int length) {
    int digits = length - 2;
    if (digits < 1 || line[length - 2] != '\r') {
      return CHUNK_MALFORMED;
    }
    if (digits > 16) {
      return CHUNK_TOO_MANY_DIGITS;
    }
    long size = 0;
    for (int k = 0; k < digits; k++) {
      int d = Character.digit(line[k], 16);
      if (d < 0 || line[k] < 0) {
        return CHUNK_MALFORMED;
      }
      if (size > (Long.MAX_VALUE >> 4)) {
        return CHUNK_OVERFLOW;
      }
      size = (size << 4) | d;
    }
    return size;
  }

  /**
   * The index of the CR of the next CRLF in {@code line[from, length)}; -1 if a CR or LF stands
   * alone first.
   */
  public static int indexOfCrlf(byte[] line, int from, int length) {
    for (int k = from; k < length; k++) {
      byte b = line[k];
      if (b == '\r') {
        return k + 1 < length && line[k + 1] == '\n' ? k : -1;
      }
      if (b == '\n') {
        return -1;
      }
    }
    return -1;
  }

  public static int indexOf(byte[] line, byte b, int from, int to) {
    for (int k = from; k < to; k++) {
      if (line[k] == b) {
        return k;
      }
    }
    return -1;
  }

  /** RFC 9110 §5.6.2 tchar as two 64-bit masks: bytes 0-63 and 64-127 (none above 127 is one). */
  private static final long TCHAR_LOW = mask(0);

  private static final long TCHAR_HIGH = mask(64);

  private static long mask(int from) {
    long m = 0;
    for (int c = from; c < from + 64; c++) {
      if (c >= 'a' && c <= 'z'
          || c >= 'A' && c <= 'Z'
          || c >= '0' && c <= '9'
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0) {
        m |= 1L << (c - from);
      }
    }
    return m;
  }

  /** RFC 9110 §5.6.2 tchar. */
  public static boolean isTchar(byte b) {
    return b >= 0 && ((b < 64 ? TCHAR_LOW : TCHAR_HIGH) & (1L << (b & 63))) != 0;
  }

  private static int trimStart(byte[] line, int from, int to) {
    int a = from;
    while (a < to && (line[a] == ' ' || line[a] == '\t')) {
      a++;
    }
    return a;
  }

  private static int trimEnd(byte[] line, int from, int to) {
    int b = to;
    while (b > from && (line[b - 1] == ' ' || line[b - 1] == '\t')) {
      b--;
    }
    return b;
  }

  /** ASCII case-insensitive comparison of {@code a[from, to)} with a lower-case constant. */
  public static boolean equalsIgnoreCase(byte[] a, int from, int to, String lower) {
    return to - from == lower.length() && is(a, from, to - from, lower);
  }

  /** ASCII case-insensitive comparison of a field name with a lower-case constant. */
  private static boolean is(byte[] line, int from, int length, String lower) {
    if (length != lower.length()) {
      return false;
    }
    for (int k = 0; k < length; k++) {
      int c = line[from + k];
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != lower.charAt(k)) {
        return false;
      }
    }
    return true;
  }
}
