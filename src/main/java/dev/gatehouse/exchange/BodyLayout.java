package dev.gatehouse.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.ValueNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Where the members of a JSON body's object sit in the body's bytes, and those of each member whose
 * value is an object the scan read field by field ({@code options}, {@code stream_options}): each
 * member's name, the byte span of its value, and the object's closing brace. Recorded by {@link
 * BodyFields#scan} as it parses, so that a stage changing a few small fields can {@link #splice}
 * them into the body instead of building, editing and writing a full tree of it (which decodes a 10
 * MB base64 image into a string and writes it out again). Two levels only, so the scan records
 * nothing per deeper node. Describes one body and travels with it (the Exchange writes both
 * together); immutable once the scan has returned.
 */
public final class BodyLayout {

  /** The body's length, checked against the body a splice is asked to edit. */
  private final int length;

  private final Members root;

  BodyLayout(int length, Members root) {
    this.length = length;
    this.root = root;
  }

  /**
   * The members of one object, in body order; filled by one scan, then only read. Offsets are from
   * the start of the body.
   */
  static final class Members {
    private String[] names = new String[8];
    private int[] starts = new int[8];
    private int[] ends = new int[8];
    private @Nullable Members[] children = new Members[8];
    private int count;
    private int close = -1;

    /** A member whose value starts at {@code start} (its first byte). */
    void add(String name, int start) {
      if (count == names.length) {
        int n = count * 2;
        names = Arrays.copyOf(names, n);
        starts = Arrays.copyOf(starts, n);
        ends = Arrays.copyOf(ends, n);
        children = Arrays.copyOf(children, n);
      }
      names[count] = name;
      starts[count] = start;
      count++;
    }

    /** The last member's value, an object whose own members were recorded. */
    void lastIsObject(Members child) {
      children[count - 1] = child;
    }

    /**
     * The next token (a name, or the closing brace) starts at {@code next}: the last member's value
     * ends before the whitespace and comma in front of it. No value ends in either (a string ends
     * in a quote, a number in a digit, a literal in a letter, a container in its bracket).
     */
    void next(byte[] body, int offset, int next) {
      if (count == 0) {
        return;
      }
      int i = next;
      i = skipSpace(body, offset, i);
      if (i > 0 && body[offset + i - 1] == ',') {
        i = skipSpace(body, offset, i - 1);
      }
      ends[count - 1] = i;
    }

    /** The object's closing brace is at {@code at}. */
    void close(byte[] body, int offset, int at) {
      next(body, offset, at);
      close = at;
    }

    private static int skipSpace(byte[] body, int offset, int i) {
      while (i > 0) {
        byte b = body[offset + i - 1];
        if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
          break;
        }
        i--;
      }
      return i;
    }

    private int indexOf(String name) {
      for (int i = 0; i < count; i++) {
        if (names[i].equals(name)) {
          return i;
        }
      }
      return -1;
    }

    /**
     * True when a member of the body folds to {@code name}: adding it would repeat or shadow it.
     */
    private boolean clashes(String name) {
      for (int i = 0; i < count; i++) {
        if (JsonFields.sameFold(names[i], name)) {
          return true;
        }
      }
      return false;
    }
  }

  /** One change to the bytes: {@code [start, end)} replaced by {@code bytes}. */
  private record Edit(int start, int end, byte[] bytes) {}

  /**
   * The body with the changes from {@code original} to {@code edited} spliced into its bytes (a
   * view that shares the body's bytes between the edits), or null when a splice cannot make them
   * (the caller then edits a full tree, as before). Every byte the change does not touch is kept as
   * it is: a member whose value is unchanged, the whitespace, the order. What a splice makes, at
   * the body's object and at an object-valued member of it:
   *
   * <ul>
   *   <li>a member whose value changed to a scalar (or from one kind to another): its value's span
   *       replaced by the new value, serialised as {@link BodyFields#write} would;
   *   <li>a new member: inserted before the object's closing brace, after a comma unless the object
   *       is empty, with its name JSON-escaped; its value a scalar, or an object of scalars (an
   *       {@code options} the caps create);
   *   <li>an object-valued member changed inside: the same, one level down.
   * </ul>
   *
   * Anything else cannot be spliced: a removed member, a changed array, a change deeper than the
   * layout reaches, a new name that folds to one the object has already (the full tree would hold
   * both; so would the spliced body, but the fallback keeps that rare case on one path), and a
   * value holding a {@link MeasuredText}.
   *
   * @param original the policy fields {@link BodyFields#scan} read from {@code body}, with this
   *     layout
   * @param edited a copy of {@code original} after the stage's edits. The stage sets only values it
   *     builds itself: a value copied out of the policy fields carries their pruning, and would be
   *     written pruned
   * @throws IOException when a new value cannot be serialised
   */
  public @Nullable Buffer splice(Buffer body, ObjectNode original, ObjectNode edited)
      throws IOException {
    if (body.length() != length) {
      return null; // not the body this layout describes: never splice by the wrong offsets
    }
    List<Edit> edits = new ArrayList<>();
    if (!diff(root, original, edited, edits)) {
      return null;
    }
    if (edits.isEmpty()) {
      return body;
    }
    edits.sort((a, b) -> Integer.compare(a.start, b.start));
    BodyFields.Bytes bytes = BodyFields.Bytes.of(body);
    // A view: the body's own bytes between the edits, not a copy of them. A body carrying a 14 MB
    // image is not copied (nor held twice while it is forwarded) to add an options member.
    ByteBuf[] parts = new ByteBuf[2 * edits.size() + 1];
    int n = 0;
    int at = 0;
    for (Edit e : edits) {
      if (e.start < at) {
        return null; // overlapping edits: cannot happen with a tree, refused rather than guessed
      }
      parts[n++] = Unpooled.wrappedBuffer(bytes.array(), bytes.offset() + at, e.start - at);
      parts[n++] = Unpooled.wrappedBuffer(e.bytes);
      at = e.end;
    }
    parts[n] = Unpooled.wrappedBuffer(bytes.array(), bytes.offset() + at, length - at);
    return BufferInternal.buffer(Unpooled.wrappedBuffer(parts.length, parts));
  }

  /** Adds the edits that turn {@code was} into {@code now}; false when a splice cannot. */
  private static boolean diff(Members spans, ObjectNode was, ObjectNode now, List<Edit> edits)
      throws IOException {
    if (spans.close < 0) {
      return false; // not recorded to its end (cannot happen once a scan returned)
    }
    for (Map.Entry<String, JsonNode> e : was.properties()) {
      if (!now.has(e.getKey())) {
        return false; // a removed member: a splice only replaces and adds
      }
    }
    ByteArrayOutputStream added = null;
    for (Map.Entry<String, JsonNode> e : now.properties()) {
      String name = e.getKey();
      JsonNode value = e.getValue();
      JsonNode before = was.get(name);
      if (before == null) {
        if (!writable(value, true) || spans.clashes(name)) {
          return false;
        }
        if (added == null) {
          added = new ByteArrayOutputStream(64);
        }
        if (spans.count > 0 || added.size() > 0) {
          added.write(',');
        }
        writeString(added, name);
        added.write(':');
        writeValue(added, value);
        continue;
      }
      if (before.equals(value)) {
        continue; // kept byte for byte
      }
      int i = spans.indexOf(name);
      if (i < 0) {
        return false;
      }
      Members child = spans.children[i];
      if (before instanceof ObjectNode b && value instanceof ObjectNode v) {
        // one level down, when the scan recorded it: else the policy fields hold a pruned object
        // (or none of its members), and writing it would drop what they left out
        if (child == null || !diff(child, b, v, edits)) {
          return false;
        }
      } else if (writable(value, true)) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16);
        writeValue(out, value);
        edits.add(new Edit(spans.starts[i], spans.ends[i], out.toByteArray()));
      } else {
        return false;
      }
    }
    if (added != null) {
      edits.add(new Edit(spans.close, spans.close, added.toByteArray()));
    }
    return true;
  }

  /**
   * True for a value a splice writes whole: a scalar (a measured image payload has no text), or,
   * where {@code objects}, an object of such scalars.
   */
  private static boolean writable(JsonNode value, boolean objects) {
    if (value instanceof MeasuredText) {
      return false;
    }
    if (value instanceof ValueNode) {
      return value.isTextual() || value.isNumber() || value.isBoolean() || value.isNull();
    }
    if (!objects || !(value instanceof ObjectNode o)) {
      return false; // arrays, and objects inside a new object
    }
    for (Map.Entry<String, JsonNode> e : o.properties()) {
      if (!writable(e.getValue(), false)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Writes a {@link #writable} value as Jackson writes it ({@link BodyFields#STRICT}: no spaces),
   * without a generator per value: the values a splice writes are a few small numbers, names and
   * short texts, and a generator's set-up cost far more than their bytes. Plain ASCII text, whole
   * numbers, booleans and null are written here; anything else (escapes, non-ASCII text, fractions)
   * by Jackson itself. {@code BodyLayoutTest} checks both give the same bytes.
   */
  static void writeValue(ByteArrayOutputStream out, JsonNode value) throws IOException {
    if (value instanceof ObjectNode o) {
      out.write('{');
      boolean first = true;
      for (Map.Entry<String, JsonNode> e : o.properties()) {
        if (!first) {
          out.write(',');
        }
        first = false;
        writeString(out, e.getKey());
        out.write(':');
        writeValue(out, e.getValue());
      }
      out.write('}');
    } else if (value.isTextual()) {
      writeString(out, value.textValue());
    } else if (value.isIntegralNumber() || value.isBoolean() || value.isNull()) {
      // a whole number in decimal digits, true, false, null: what the generator writes too
      writeAscii(out, value.asText());
    } else {
      out.writeBytes(BodyFields.STRICT.writeValueAsBytes(value));
    }
  }

  /** Writes {@code s} as a JSON string, as Jackson would. */
  static void writeString(ByteArrayOutputStream out, String s) throws IOException {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
        out.writeBytes(BodyFields.STRICT.writeValueAsBytes(s)); // escapes, or UTF-8 to encode
        return;
      }
    }
    out.write('"');
    writeAscii(out, s);
    out.write('"');
  }

  /**
   * Writes {@code s}, whose characters are all ASCII, in one call: the stream's single-byte write
   * is synchronized, once per character.
   */
  private static void writeAscii(ByteArrayOutputStream out, String s) {
    out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
  }
}
