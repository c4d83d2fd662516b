package dev.gatehouse.exchange;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The fields of a JSON request body that decide policy, read in one streaming pass. The pass checks
 * the whole body as the full tree parse did (one JSON object, well formed, no duplicate key at any
 * depth, nothing after it, Jackson's size limits on numbers, strings, names and nesting) and keeps,
 * as a small tree of the same shape, only what a stage or the audit record reads: the model fields,
 * tools, stream flags, the capped options, and the text a user or tool wrote (messages, prompt,
 * input, ... with their roles and part types). Everything else is skipped by the parser without
 * being decoded. An image payload (an {@code images} entry, an {@code image_url}, a {@code
 * source.data}) is measured from its bytes into a {@link MeasuredText} and never becomes a string.
 *
 * <p>Why a pruned tree rather than a record of derived figures: every reader keeps its own code and
 * its exact reading of each value ({@link JsonFields}' case folding, exact name first; {@code
 * asText}, {@code asBoolean}, the number types), so the decisions cannot drift from what the full
 * tree gave; {@code BodyFieldsEquivalenceTest} runs every reader over both. Names are kept as the
 * body spells them, every name that folds to a wanted one, in body order.
 *
 * <p>The body itself is forwarded as received. The scan also records where the body's members, and
 * those of its object-valued members, sit in its bytes ({@link BodyLayout}). A stage that adds or
 * changes a few small fields (limit.admit's caps and {@code include_usage}) edits a copy of the
 * policy fields and splices the change into the bytes ({@link BodyLayout#splice}): the rest of the
 * body, a large image included, is neither copied nor decoded, and the edited copy is the new
 * body's policy fields. What a splice cannot express, and guard.prompt's redaction (which rewrites
 * text deep in the messages), builds the full tree with {@link #tree}, edits it and serialises it
 * with {@link #write}; that new body's fields are read again with {@link #scan}. Stateless and
 * thread-safe.
 */
public final class BodyFields {

  /**
   * The strict reading every request body gets: duplicate keys and trailing content refused. Also
   * what writes a rewritten body, whole ({@link #write}) or spliced ({@link BodyLayout}).
   */
  static final ObjectMapper STRICT =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /**
   * Reads one value of a body being scanned as the tree parse would type it (the parser keeps its
   * own strict checks); {@code FAIL_ON_TRAILING_TOKENS} would look past the value, so it is off.
   */
  private static final ObjectMapper SUBTREE = new ObjectMapper();

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private static final int MAX_STRING =
      StreamReadConstraints.defaults().getMaxStringLength(); // what the tree parse allowed

  private BodyFields() {}

  /**
   * What one scan found: the policy fields, or null when the body is JSON but not an object; and
   * where the body's members sit, for a splice (null with the fields).
   */
  public record Scan(
      @Nullable ObjectNode fields, boolean ambiguousNames, @Nullable BodyLayout layout) {

    /** The model the body names, for the log: {@code model}, else {@code name}, when a string. */
    public @Nullable String model() {
      if (fields == null) {
        return null;
      }
      JsonNode model = JsonFields.get(fields, "model");
      if (model == null || !model.isTextual()) {
        model = JsonFields.get(fields, "name");
      }
      return model != null && model.isTextual() ? model.asText() : null;
    }
  }

  /**
   * Reads a body's policy fields.
   *
   * @throws IOException when the body is not well-formed JSON, repeats a key, has content after its
   *     value, or passes one of Jackson's limits: the full tree parse refused the same bodies
   */
  public static Scan scan(Buffer body) throws IOException {
    Bytes bytes = Bytes.of(body);
    try (JsonParser p = STRICT.createParser(bytes.array, bytes.offset, bytes.length)) {
      Reader r = new Reader(p, bytes, bytes.length > MAX_STRING);
      JsonToken first = p.nextToken();
      if (first == null) {
        return new Scan(null, false, null); // empty: the tree parse gave no object either
      }
      JsonNode root = r.value(Ctx.TOP);
      if (p.nextToken() != null) {
        throw new IOException("trailing content after the body's value");
      }
      BodyLayout.Members spans = r.recorded;
      return root instanceof ObjectNode o && spans != null
          ? new Scan(o, r.ambiguous, new BodyLayout(bytes.length, spans))
          : new Scan(null, r.ambiguous, null);
    }
  }

  /**
   * A copy of a body's policy fields for the request caps to edit, then {@link BodyLayout#splice}
   * against them: the body's object and each object-valued member of it ({@code options}, {@code
   * stream_options}) are new objects, and every other value is the original's own, shared. The caps
   * edit only those two levels, as a splice does, so a value they leave alone is the very same node
   * in both, which the splice's comparison finds at once; a deep copy made, and compared, every
   * message of a conversation's history to add {@code options.num_predict}. Nothing may edit the
   * copy below its second level: the edit would reach the original as well, and the splice would
   * not see it ({@code SpliceCheck} holds the caps to that on every body it tries).
   */
  public static ObjectNode editableCopy(ObjectNode fields) {
    ObjectNode copy = fields.objectNode();
    for (var e : fields.properties()) {
      JsonNode v = e.getValue();
      if (v instanceof ObjectNode o) {
        ObjectNode member = o.objectNode();
        member.setAll(o);
        v = member;
      }
      copy.set(e.getKey(), v);
    }
    return copy;
  }

  /**
   * The whole body as a tree, for a stage that rewrites it: the one place a request body becomes a
   * full tree. The body passed {@link #scan} already.
   */
  public static ObjectNode tree(Buffer body) throws IOException {
    Bytes bytes = Bytes.of(body);
    JsonNode node = STRICT.readTree(bytes.array, bytes.offset, bytes.length);
    if (!(node instanceof ObjectNode o)) {
      throw new IOException("the body is not a JSON object");
    }
    return o;
  }

  /** The body serialised from an edited tree. */
  public static Buffer write(ObjectNode tree) throws IOException {
    return Buffer.buffer(STRICT.writeValueAsBytes(tree));
  }

  /** A body's bytes without a copy when it is backed by an array (a heap buffer, the usual). */
  public record Bytes(byte[] array, int offset, int length) {
    public static Bytes of(Buffer body) {
      if (body instanceof BufferInternal b) {
        ByteBuf buf = b.getByteBuf();
        if (buf.hasArray()) {
          return new Bytes(buf.array(), buf.arrayOffset() + buf.readerIndex(), buf.readableBytes());
        }
      }
      byte[] copy = body.getBytes(); // a direct or composite buffer: one copy
      return new Bytes(copy, 0, copy.length);
    }
  }

  /**
   * Where a value sits, which says what of it is kept. A value in a place no reader looks is
   * skipped; a container in a place where only its kind matters is kept as an empty container of
   * that kind.
   */
  private enum Ctx {
    /** The body: the fields any stage reads. */
    TOP,
    /** A scalar is kept; a container only as its kind. */
    SCALAR,
    /** Kept whole ({@code keep_alive}, whose refusal message prints the value). */
    FULL,
    /** {@code tools}: an array of tool objects, of which only {@code type} is read. */
    TOOLS,
    TOOL,
    /** {@code tool_choice}: its {@code type}, and {@code tools} of an allowed_tools choice. */
    TOOL_CHOICE,
    STREAM_OPTIONS,
    OPTIONS,
    /** Text a user, a tool or a system prompt wrote: strings, arrays of parts, part objects. */
    TEXT,
    TEXT_OBJECT,
    /** {@code messages}: an array of messages. */
    MESSAGES,
    MESSAGE,
    /** An array of image payloads ({@code images}). */
    IMAGES,
    /** One image payload: a string is measured, not kept. */
    IMAGE,
    /** {@code image_url}: a payload string, or an object with one in {@code url}. */
    IMAGE_URL,
    /** An Anthropic image block's {@code source}: the payload in {@code data}. */
    SOURCE;

    /** The place of the field {@code name} in an object here, or null to skip it. */
    @Nullable Ctx child(String name) {
      return switch (this) {
        case TOP -> top(name);
        case TOOL -> is(name, "type") ? SCALAR : null;
        case TOOL_CHOICE -> is(name, "type") ? SCALAR : is(name, "tools") ? TOOLS : null;
        case STREAM_OPTIONS -> is(name, "include_usage") ? SCALAR : null;
        case OPTIONS -> is(name, "num_ctx") || is(name, "num_predict") ? SCALAR : null;
        case TEXT_OBJECT -> textObject(name);
        case MESSAGE ->
            is(name, "role")
                ? SCALAR
                : is(name, "content") ? TEXT : is(name, "images") ? IMAGES : null;
        case IMAGE_URL -> is(name, "url") ? IMAGE : null;
        case SOURCE -> is(name, "data") ? IMAGE : null;
        default -> null;
      };
    }

    /** The place of an array's items here, or null to keep the array only as its kind. */
    @Nullable Ctx item() {
      return switch (this) {
        case TOOLS -> TOOL;
        case TEXT -> TEXT;
        case MESSAGES -> MESSAGE;
        case IMAGES -> IMAGE;
        default -> null;
      };
    }

    /** The place whose objects are read field by field, or null to keep them only as their kind. */
    @Nullable Ctx object() {
      return switch (this) {
        case TOP, TOOL, TOOL_CHOICE, STREAM_OPTIONS, OPTIONS, MESSAGE, SOURCE, IMAGE_URL -> this;
        case TEXT -> TEXT_OBJECT;
        default -> null;
      };
    }

    private static @Nullable Ctx top(String name) {
      for (String f : SCALAR_FIELDS) {
        if (is(name, f)) {
          return SCALAR;
        }
      }
      for (String f : TEXT_FIELDS) {
        if (is(name, f)) {
          return TEXT;
        }
      }
      if (is(name, "messages")) {
        return MESSAGES;
      }
      if (is(name, "images")) {
        return IMAGES;
      }
      if (is(name, "tools")) {
        return TOOLS;
      }
      if (is(name, "tool_choice")) {
        return TOOL_CHOICE;
      }
      if (is(name, "options")) {
        return OPTIONS;
      }
      if (is(name, "stream_options")) {
        return STREAM_OPTIONS;
      }
      return is(name, "keep_alive") ? FULL : null;
    }

    private static @Nullable Ctx textObject(String name) {
      if (is(name, "text") || is(name, "content") || is(name, "output")) {
        return TEXT;
      }
      if (is(name, "type") || is(name, "role")) {
        return SCALAR;
      }
      return is(name, "image_url") ? IMAGE_URL : is(name, "source") ? SOURCE : null;
    }
  }

  /**
   * Top-level fields read as values: the model fields of every route (authorize.models, the log), a
   * Modelfile, the fields that call out (tools policy), the stream flag and the capped numbers
   * (limit.admit, probe scoring).
   */
  private static final String[] SCALAR_FIELDS = {
    "model",
    "name",
    "from",
    "source",
    "destination",
    "modelfile",
    "mcp_servers",
    "web_search_options",
    "container",
    "stream",
    "n_predict",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "n",
    "best_of"
  };

  /** Top-level fields that carry prompt text (the guard, the caps, the audit's prompt capture). */
  private static final String[] TEXT_FIELDS = {
    "prompt", "system", "input", "suffix", "instructions", "content"
  };

  /** True when {@code key} folds to {@code name} as {@link JsonFields#get} matches them. */
  private static boolean is(String key, String name) {
    return JsonFields.foldsTo(key, name);
  }

  private static final java.lang.invoke.VarHandle LONGS =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
          long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

  /**
   * The index of the first byte at or after {@code i} that is a quote, a backslash or not ASCII, or
   * {@code end}. Eight bytes at a time: a byte equal to {@code v} is a zero byte of {@code w ^ v},
   * found by the borrow trick, which can mark bytes after a true hit but never before one.
   */
  static int plainRun(byte[] b, int i, int end) {
    while (i + 8 <= end) {
      long w = (long) LONGS.get(b, i);
      long q = w ^ 0x2222222222222222L; // '"'
      long s = w ^ 0x5C5C5C5C5C5C5C5CL; // '\\'
      long hit =
          (((q - 0x0101010101010101L) & ~q) | ((s - 0x0101010101010101L) & ~s) | w)
              & 0x8080808080808080L;
      if (hit != 0) {
        return i + (Long.numberOfTrailingZeros(hit) >>> 3);
      }
      i += 8;
    }
    while (i < end && b[i] != '"' && b[i] != '\\' && b[i] >= 0) {
      i++;
    }
    return i;
  }

  /** One pass over one body; not thread-safe. */
  private static final class Reader {
    private final JsonParser p;
    private final Bytes bytes;

    /** Jackson's string-length limit is only reachable on a body longer than it. */
    private final boolean checkLengths;

    /**
     * The body's top-level names so far: compared pairwise while there are few (no allocation for
     * the usual body), then folded into a set.
     */
    private final String[] fewNames = new String[16];

    private int names;
    private @Nullable Set<String> manyNames;
    boolean ambiguous;

    /** Containers being read: the body's object is at 0, its members' values at 1. */
    private int level;

    /**
     * The members of the last object recorded for the {@link BodyLayout} (the body's object, or an
     * object-valued member of it): set as that object closes, read by the object around it.
     */
    BodyLayout.@Nullable Members recorded;

    Reader(JsonParser p, Bytes bytes, boolean checkLengths) {
      this.p = p;
      this.bytes = bytes;
      this.checkLengths = checkLengths;
    }

    /** The value at the current token, as kept for {@code ctx}. */
    JsonNode value(Ctx ctx) throws IOException {
      JsonToken t = p.currentToken();
      if (t == null) {
        throw new IOException("unexpected end of the body"); // the parser throws first
      }
      return switch (t) {
        case START_OBJECT -> ctx == Ctx.FULL ? SUBTREE.readTree(p) : object(ctx);
        case START_ARRAY -> ctx == Ctx.FULL ? SUBTREE.readTree(p) : array(ctx);
        // an image payload is measured (where only a string's kind is read, too)
        case VALUE_STRING ->
            ctx == Ctx.IMAGE || ctx == Ctx.IMAGE_URL || ctx == Ctx.SOURCE || ctx == Ctx.IMAGES
                ? measure()
                : TextNode.valueOf(p.getText());
        case VALUE_NUMBER_INT ->
            switch (p.getNumberType()) {
              case INT -> IntNode.valueOf(p.getIntValue());
              case LONG -> LongNode.valueOf(p.getLongValue());
              default -> BigIntegerNode.valueOf(p.getBigIntegerValue());
            };
        case VALUE_NUMBER_FLOAT -> SUBTREE.readTree(p); // typed as the tree parse types it
        case VALUE_TRUE -> BooleanNode.TRUE;
        case VALUE_FALSE -> BooleanNode.FALSE;
        case VALUE_NULL -> NullNode.instance;
        default -> throw new IOException("unexpected token " + t);
      };
    }

    private ArrayNode array(Ctx ctx) throws IOException {
      Ctx item = ctx.item();
      ArrayNode a = NODES.arrayNode();
      if (item == null) {
        skip();
        return a;
      }
      level++;
      while (p.nextToken() != JsonToken.END_ARRAY) {
        a.add(value(item));
      }
      level--;
      return a;
    }

    private ObjectNode object(Ctx at) throws IOException {
      ObjectNode o = NODES.objectNode();
      Ctx ctx = at.object();
      if (ctx == null) {
        skip();
        return o;
      }
      boolean top = ctx == Ctx.TOP;
      // the body's object and its object-valued members: where each member's value sits, for a
      // splice (BodyLayout); nothing deeper, so a deep body costs nothing more
      BodyLayout.Members spans = level < 2 ? new BodyLayout.Members() : null;
      level++;
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        checkName();
        if (spans != null) {
          spans.next(bytes.array, bytes.offset, tokenStart());
        }
        String name = p.currentName();
        if (top && !firstFold(name)) {
          ambiguous = true; // refused once the whole body has parsed (a syntax error comes first)
        }
        p.nextToken();
        if (spans != null) {
          spans.add(name, tokenStart());
          recorded = null;
        }
        Ctx child = ctx.child(name);
        if (child == null) {
          skip();
        } else {
          o.set(name, value(child));
        }
        BodyLayout.Members inner = recorded;
        if (spans != null && inner != null) {
          spans.lastIsObject(inner);
        }
      }
      if (t != JsonToken.END_OBJECT) {
        throw new IOException("unexpected token " + t);
      }
      level--;
      if (spans != null) {
        spans.close(bytes.array, bytes.offset, tokenStart());
        recorded = spans;
      }
      return o;
    }

    /** Records a top-level name; false when an earlier one folds to the same name. */
    private boolean firstFold(String name) {
      if (manyNames != null) {
        return manyNames.add(JsonFields.fold(name));
      }
      for (int i = 0; i < names; i++) {
        if (JsonFields.sameFold(fewNames[i], name)) {
          return false;
        }
      }
      if (names < fewNames.length) {
        fewNames[names++] = name;
        return true;
      }
      Set<String> many = new HashSet<>();
      for (String n : fewNames) {
        many.add(JsonFields.fold(n));
      }
      manyNames = many;
      return many.add(JsonFields.fold(name));
    }

    /** Where the current token starts, from the start of the body. */
    private int tokenStart() {
      return (int) p.currentTokenLocation().getByteOffset();
    }

    /**
     * Skips the current value. The parser checks what it skips as it would have read it (syntax,
     * duplicate keys, UTF-8, nesting), without decoding strings; the member names in it are checked
     * here as well ({@link #checkName}).
     */
    private void skip() throws IOException {
      JsonToken t = p.currentToken();
      if (t == JsonToken.VALUE_STRING) {
        if (checkLengths) {
          measure();
        }
        return; // the next token skips it
      }
      if (!t.isStructStart()) {
        return; // a number, a boolean or null: the next token skips it
      }
      int depth = 0;
      do {
        t = p.currentToken();
        if (t.isStructStart()) {
          depth++;
        } else if (t.isStructEnd()) {
          depth--;
        } else if (t == JsonToken.FIELD_NAME) {
          checkName();
        } else if (t == JsonToken.VALUE_STRING && checkLengths) {
          measure();
        }
      } while (depth > 0 && p.nextToken() != null);
    }

    /**
     * Refuses the current member name if its bytes hold 0xFF, which UTF-8 never does. Jackson looks
     * a name up by its bytes in the names it has read before, in 4-byte groups whose last one it
     * pads with 0xFF, and checks the UTF-8 of a name only the first time: so {@code "mode\xFFl"}
     * was read as a {@code "model"} seen before (a name the upstream reads otherwise), and refused
     * only when it came first. A name that collides must hold the padding byte, so this check on
     * the name's raw bytes closes it whatever was read before ({@code InvalidUtf8NameTest}).
     */
    private void checkName() throws IOException {
      byte[] b = bytes.array;
      int end = bytes.offset + bytes.length;
      for (int i = bytes.offset + tokenStart() + 1; i < end && b[i] != '"'; i++) {
        if (b[i] == '\\') {
          i++; // an escape: the byte after the backslash is ASCII in any name the parser accepted
        } else if (b[i] == (byte) 0xFF) {
          throw new JsonParseException(p, "Invalid UTF-8 start byte 0xff in a member name");
        }
      }
    }

    /**
     * Measures the current string from its bytes: its length in UTF-16 units and where a {@code
     * data:} URL's payload starts. Reads the raw bytes between the quotes; the parser checks them
     * when it skips the string on its next token.
     */
    private MeasuredText measure() throws IOException {
      byte[] b = bytes.array;
      int end = bytes.offset + bytes.length;
      int i = bytes.offset + (int) p.currentTokenLocation().getByteOffset() + 1;
      long units = 0;
      long comma = -1;
      boolean data = true; // the first five units so far match "data:"
      while (i < end && b[i] != '"') {
        if (units >= 5 && (comma >= 0 || !data)) {
          // Settled: only the length is left to count, and a run of plain ASCII is one unit a
          // byte. A 14 MB base64 image is one such run, counted eight bytes at a time.
          int run = plainRun(b, i, end);
          units += run - i;
          i = run;
          if (i >= end || b[i] == '"') {
            break;
          }
        }
        int c;
        int step;
        int width = 1;
        if (b[i] == '\\' && i + 1 < end) {
          if (b[i + 1] == 'u' && i + 5 < end) {
            c = hex(b, i + 2);
            step = 6;
          } else {
            c = unescape(b[i + 1]);
            step = 2;
          }
        } else if (b[i] >= 0) {
          c = b[i];
          step = 1;
        } else {
          int lead = b[i] & 0xFF;
          c = -1; // non-ASCII: never a comma, never part of "data:"
          step = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
          width = lead >= 0xF0 ? 2 : 1; // four bytes: a supplementary character, two units
        }
        if (units < 5 && (units + width > 5 || c != "data:".charAt((int) units))) {
          data = false;
        }
        if (c == ',' && comma < 0) {
          comma = units;
        }
        units += width;
        i += step;
      }
      if (checkLengths && units > MAX_STRING) {
        throw new StreamConstraintsException("string longer than " + MAX_STRING);
      }
      long skip = data && units >= 5 ? comma + 1 : 0; // no comma: indexOf(',') + 1 == 0
      return new MeasuredText(units, units - skip);
    }

    private static int hex(byte[] b, int at) {
      int v = 0;
      for (int k = 0; k < 4; k++) {
        v = v * 16 + Character.digit(b[at + k], 16);
      }
      return v;
    }

    private static int unescape(byte e) {
      return switch (e) {
        case 'b' -> '\b';
        case 'f' -> '\f';
        case 'n' -> '\n';
        case 'r' -> '\r';
        case 't' -> '\t';
        default -> e; // \" \\ \/ (and anything else, which the parser refuses)
      };
    }
  }
}
