package dev.gatehouse.http1;

import java.nio.charset.StandardCharsets;

/**
 * The strict HTTP/1.1 grammar (RFC 9112, RFC 9110 §5) that both framing checks read by: the
 * client side ({@code listen/StrictFraming}) and the upstream side ({@code proxy/UpstreamFraming}).
 * Pure functions over a head collected in a byte array; no state.
 */
public final class Http1Grammar {

  private Http1Grammar() {}

  /** What the field lines of one head (or trailer section) say about framing. */
  public static final class Fields {
    public int transferEncodings;
    public String transferEncoding;
    public int contentLengths;
    public String contentLength;
    public int hosts;
    public String host;

    /** Whether any field that frames or routes a message is present (never allowed in trailers). */
    public boolean framingOrRouting() {
      return transferEncodings + contentLengths + hosts > 0;
    }
  }

  /**
   * Checks the field lines of {@code line[from, length)} up to the blank line, collecting the
   * framing fields in {@code into}. Returns why they are malformed, or null:
   * CRLF line ends only, no obs-fold, token names with no white space before the colon, and no
   * control character (other than tab) in a value.
   */
  public static String fields(byte[] line, int from, int length, Fields into) {
    int i = from;
    while (true) {
      int eol = indexOfCrlf(line, i, length);
      if (eol < 0) {
        return "bare CR or LF in a header line";
      }
      if (eol == i) {
        return null; // the blank line
      }
      if (line[i] == ' ' || line[i] == '\t') {
        return "obs-fold (a header line starting with white space)";
      }
      int colon = indexOf(line, (byte) ':', i, eol);
      if (colon <= i) {
        return "header line without a field name";
      }
      for (int k = i; k < colon; k++) {
        if (!isTchar(line[k])) {
          return "header name is not a token (or white space before the colon)";
        }
      }
      for (int k = colon + 1; k < eol; k++) {
        int c = line[k] & 0xff;
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
          return "control character in a header value";
        }
      }
      int nameLength = colon - i;
      if (is(line, i, nameLength, "transfer-encoding")) {
        into.transferEncodings++;
        into.transferEncoding = value(line, colon + 1, eol);
      } else if (is(line, i, nameLength, "content-length")) {
        into.contentLengths++;
        into.contentLength = value(line, colon + 1, eol);
      } else if (is(line, i, nameLength, "host")) {
        into.hosts++;
        into.host = value(line, colon + 1, eol);
      }
      i = eol + 2;
    }
  }

  /**
   * A Content-Length value: 1-19 digits and nothing else (no sign, no list, no white space
   * inside); -1 for anything else.
   */
  public static long contentLength(String value) {
    int n = value.length();
    if (n == 0 || n > 19) {
      return -1;
    }
    for (int k = 0; k < n; k++) {
      char c = value.charAt(k);
      if (c < '0' || c > '9') {
        return -1;
      }
    }
    long v = Long.parseLong(value.substring(0, Math.min(n, 18)));
    if (n == 19) {
      // the 19th digit: past Long.MAX_VALUE is refused rather than wrapped
      int last = value.charAt(18) - '0';
      if (v > (Long.MAX_VALUE - last) / 10) {
        return -1;
      }
      v = v * 10 + last;
    }
    return v;
  }

  /** Result of {@link #chunkSize}: the line is not {@code 1*16HEXDIG CRLF}. */
  public static final long CHUNK_MALFORMED = -1;
  /** Result of {@link #chunkSize}: more than 16 hex digits. */
  public static final long CHUNK_TOO_MANY_DIGITS = -2;
  /** Result of {@link #chunkSize}: the size does not fit in a signed 64-bit number. */
  public static final long CHUNK_OVERFLOW = -3;

  /**
   * A chunk-size line {@code line[0, length)} that ends in CRLF, read exactly: 1-16 hex digits
   * with no extension, sign or white space. Returns the size, or one of the negative results.
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

  /** Whether {@code line[0, length)} ends in CRLF CRLF: a head or trailer section is complete. */
  public static boolean endsWithBlankLine(byte[] line, int length) {
    return length >= 4
        && line[length - 4] == '\r' && line[length - 3] == '\n'
        && line[length - 2] == '\r' && line[length - 1] == '\n';
  }

  /** The index of the CR of the next CRLF in {@code line[from, length)}; -1 if a CR or LF stands alone first. */
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
      if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0) {
        m |= 1L << (c - from);
      }
    }
    return m;
  }

  /** RFC 9110 §5.6.2 tchar. */
  public static boolean isTchar(byte b) {
    return b >= 0 && ((b < 64 ? TCHAR_LOW : TCHAR_HIGH) & (1L << (b & 63))) != 0;
  }

  /** The field value between {@code from} and {@code to}, without the optional white space around it. */
  public static String value(byte[] line, int from, int to) {
    int a = from;
    int b = to;
    while (a < b && (line[a] == ' ' || line[a] == '\t')) {
      a++;
    }
    while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t')) {
      b--;
    }
    return new String(line, a, b - a, StandardCharsets.ISO_8859_1);
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
