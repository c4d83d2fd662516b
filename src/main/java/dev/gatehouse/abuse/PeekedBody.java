package dev.gatehouse.abuse;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What probe detection reads from the prefix of a body that was refused for lack of a valid key
 * (see {@link BodyPeek}): the model it names, whether its prompt is a stock probe prompt, whether
 * it asks for at most one token, and whether a management request names a URL as its model.
 *
 * <p>The prefix is usually the whole body, but may be cut anywhere, so it is scanned token by token
 * with Jackson's streaming parser and whatever was seen before the cut (or before the first syntax
 * error) counts; no tree is built. Scanning is bounded by the prefix (a few KiB) and by nesting and
 * string limits. The text is only compared, never kept or logged. Immutable.
 */
record PeekedBody(
    @Nullable String model, boolean stockPrompt, boolean tinyOutput, boolean urlAsModel) {

  static final PeekedBody NONE = new PeekedBody(null, false, false, false);

  /**
   * Without name canonicalization: Jackson would otherwise look each member name up by its bytes in
   * the names this factory read before, in 4-byte groups whose last one it pads with 0xFF, and
   * check a name's UTF-8 only the first time it reads it, so {@code "mode\xFFl"} in one body was
   * read as the {@code "model"} of an earlier one. Each name is decoded, and its UTF-8 checked,
   * every time (a prefix is a few KiB, read only for refused requests).
   */
  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
          .streamReadConstraints(
              StreamReadConstraints.builder().maxNestingDepth(32).maxStringLength(8192).build())
          .build();

  private static final Pattern URL_IN_FROM = Pattern.compile("(?im)^[ \\t]*FROM[ \\t]+\\S*://");

  /** Scans {@code prefix} (a JSON object, perhaps cut short). Never throws. */
  static PeekedBody scan(byte[] prefix) {
    if (prefix == null || prefix.length == 0) {
      return NONE;
    }
    Scan s = new Scan();
    try (JsonParser p = FACTORY.createParser(prefix)) {
      s.run(p);
    } catch (IOException | RuntimeException e) {
      // A cut or malformed prefix: what was read up to here counts.
    }
    return s.result();
  }

  /** One scan; not thread-safe. */
  private static final class Scan {
    @Nullable String model;
    @Nullable String prompt; // "prompt" or a string "input" at top level
    boolean promptSeen;
    int messages; // messages at top level; -1 once more than one or the array was cut
    boolean messagesClosed;
    @Nullable String firstContent;
    boolean tiny;
    boolean url;

    void run(JsonParser p) throws IOException {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return;
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (v == null) {
          return;
        }
        switch (name) {
          case "model", "name", "from", "source", "destination" -> {
            if (v == JsonToken.VALUE_STRING) {
              String text = p.getText();
              if (text.contains("://")) {
                url = true;
              }
              if (model == null && (name.equals("model") || name.equals("name"))) {
                model = text;
              }
            } else {
              p.skipChildren();
            }
          }
          case "modelfile" -> {
            if (v == JsonToken.VALUE_STRING && URL_IN_FROM.matcher(p.getText()).find()) {
              url = true;
            } else {
              p.skipChildren();
            }
          }
          case "prompt", "input" -> {
            if (v == JsonToken.VALUE_STRING) {
              promptSeen = true;
              prompt = prompt == null ? p.getText() : prompt;
            } else {
              p.skipChildren();
            }
          }
          case "max_tokens",
              "max_completion_tokens",
              "max_output_tokens",
              "n_predict",
              "max_new_tokens" -> {
            tiny |= atMostOne(p, v);
          }
          case "options" -> {
            if (v == JsonToken.START_OBJECT) {
              options(p);
            } else {
              p.skipChildren();
            }
          }
          case "messages" -> {
            if (v == JsonToken.START_ARRAY) {
              messages(p);
            } else {
              p.skipChildren();
            }
          }
          default -> p.skipChildren();
        }
      }
    }

    private static boolean atMostOne(JsonParser p, JsonToken v) throws IOException {
      if (v != JsonToken.VALUE_NUMBER_INT) {
        return false;
      }
      // Compared as text-derived BigInteger: a huge number is not "one token".
      java.math.BigInteger n = p.getBigIntegerValue();
      return n.signum() >= 0 && n.compareTo(java.math.BigInteger.ONE) <= 0;
    }

    private void options(JsonParser p) throws IOException {
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (name.equals("num_predict")) {
          tiny |= atMostOne(p, v);
        } else {
          p.skipChildren();
        }
      }
    }

    private void messages(JsonParser p) throws IOException {
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (t == null) {
          return;
        }
        messages++;
        if (t == JsonToken.START_OBJECT && messages == 1) {
          message(p);
        } else {
          p.skipChildren();
        }
      }
      messagesClosed = true;
    }

    private void message(JsonParser p) throws IOException {
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (!name.equals("content")) {
          p.skipChildren();
        } else if (v == JsonToken.VALUE_STRING) {
          firstContent = p.getText();
        } else if (v == JsonToken.START_ARRAY) {
          parts(p);
        } else {
          p.skipChildren();
        }
      }
    }

    /**
     * Content as parts ({@code [{"type":"text","text":"hi"}]}): one text part counts as the text.
     */
    private void parts(JsonParser p) throws IOException {
      int n = 0;
      String text = null;
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (t == null) {
          return;
        }
        n++;
        if (t != JsonToken.START_OBJECT) {
          p.skipChildren();
          continue;
        }
        JsonToken f;
        while ((f = p.nextToken()) == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          JsonToken v = p.nextToken();
          if (name.equals("text") && v == JsonToken.VALUE_STRING) {
            text = p.getText();
          } else {
            p.skipChildren();
          }
        }
      }
      firstContent = n == 1 ? text : null;
    }

    PeekedBody result() {
      boolean stock;
      if (promptSeen) {
        stock = ProbeSignatures.probePrompt(prompt);
      } else {
        // Only a messages array seen to its end with exactly one message: the cut may hide more.
        stock = messagesClosed && messages == 1 && ProbeSignatures.probePrompt(firstContent);
      }
      return new PeekedBody(model, stock, tiny, url);
    }
  }
}
