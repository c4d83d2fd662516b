package dev.gatehouse.listen;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A minimal multipart/form-data reader (RFC 7578) that finds the small text fields of an upload,
 * such as {@code model}, so the model allowlist applies to audio transcription too. File parts are
 * skipped, not copied.
 */
final class Multipart {

  private static final Pattern BOUNDARY =
      Pattern.compile("(?i)boundary=(?:\"([^\"]+)\"|([^;\\s]+))");
  private static final Pattern NAME = Pattern.compile("(?i)\\bname=\"([^\"]*)\"");

  /** The text fields of a form (parts without a filename). */
  record Form(Map<String, String> fields) {
    @Nullable String field(String name) {
      return fields.get(name);
    }
  }

  private Multipart() {}

  /** Parses a form; null when the content type or body is not well-formed multipart. */
  static @Nullable Form parse(String contentType, Buffer body) {
    if (contentType == null
        || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
      return null;
    }
    Matcher m = BOUNDARY.matcher(contentType);
    if (!m.find()) {
      return null;
    }
    String boundary = m.group(1) != null ? m.group(1) : m.group(2);
    // ISO-8859-1 maps bytes to chars one to one, so offsets stay byte offsets.
    String text = body.toString(StandardCharsets.ISO_8859_1);
    String delimiter = "--" + boundary;
    int pos = text.indexOf(delimiter);
    if (pos < 0) {
      return null;
    }
    Map<String, String> fields = new HashMap<>();
    while (true) {
      pos += delimiter.length();
      if (text.startsWith("--", pos)) {
        return new Form(fields); // closing delimiter
      }
      if (!text.startsWith("\r\n", pos)) {
        return null;
      }
      int headersEnd = text.indexOf("\r\n\r\n", pos);
      if (headersEnd < 0) {
        return null;
      }
      String headers = text.substring(pos + 2, headersEnd);
      int next = text.indexOf("\r\n" + delimiter, headersEnd + 4);
      if (next < 0) {
        return null;
      }
      String disposition = null;
      for (String line : headers.split("\r\n")) {
        if (line.regionMatches(true, 0, "Content-Disposition:", 0, 20)) {
          disposition = line;
        }
      }
      if (disposition == null) {
        return null;
      }
      Matcher nm = NAME.matcher(disposition);
      if (nm.find() && !disposition.toLowerCase(Locale.ROOT).contains("filename=")) {
        String value =
            new String(
                text.substring(headersEnd + 4, next).getBytes(StandardCharsets.ISO_8859_1),
                StandardCharsets.UTF_8);
        if (fields.putIfAbsent(nm.group(1), value) != null) {
          return null; // a repeated field is ambiguous: which one would the server use?
        }
      }
      pos = next + 2;
    }
  }
}
