package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.BodyFields;
import dev.gatehouse.testing.BodyCorpus;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What limit.admit does to a body both ways, compared: the byte splice against the full-tree
 * rewrite it replaces. Shared by {@code SpliceEquivalenceTest} (generated and corpus bodies) and
 * the splice fuzz target (arbitrary bytes).
 */
public final class SpliceCheck {

  /** Routes whose bodies the caps read, one of each body shape. */
  public static final List<String> PATHS =
      List.of(
          "/api/chat",
          "/api/generate",
          "/api/embed",
          "/v1/chat/completions",
          "/v1/completions",
          "/v1/responses",
          "/completion",
          "/v1/images/generations",
          "/api/v0/chat/completions");

  public static final List<GatehouseConfig.Caps> CAPS =
      List.of(
          // clamp, small caps: most bodies change
          new GatehouseConfig.Caps(
              false, 100, 2048, 2, Duration.ofMinutes(10), 8, 10_000, 50, 100_000),
          // reject: only the added fields change a body
          new GatehouseConfig.Caps(
              true, 100, 2048, 2, Duration.ofMinutes(10), 8, 10_000, 50, 100_000),
          // roomy: 4096.0 and 1e3 still become integers
          new GatehouseConfig.Caps(
              false, 8192, 32768, 8, Duration.ofHours(1), 16, 1_000_000, 500, 1_000_000));

  /** What happened to one body. */
  public enum Outcome {
    /** Refused by the body reader or the caps, or forwarded as received. */
    UNCHANGED,
    SPLICED,
    /** The splice could not express the change: the full tree was written. */
    FELL_BACK
  }

  private SpliceCheck() {}

  /**
   * Applies what limit.admit applies to {@code text} both ways and compares. The spliced body must
   * be one well-formed object that parses to the full-tree body's tree; a scan of it must read
   * exactly the edited copy of the policy fields the splice was made from (which limit.admit hands
   * the later readers instead of reading the body again); and it must keep every text in {@code
   * untouched} byte for byte.
   */
  public static Outcome compare(
      byte[] text, List<String> untouched, String path, RequestCaps caps, @Nullable Integer keyMax)
      throws IOException {
    Buffer body = Buffer.buffer(text);
    BodyFields.Scan scan;
    try {
      scan = BodyFields.scan(body);
    } catch (IOException refused) {
      return Outcome.UNCHANGED; // malformed: refused by the body reader
    }
    ObjectNode fields = scan.fields();
    if (fields == null || scan.ambiguousNames()) {
      return Outcome.UNCHANGED; // refused by the body reader
    }
    ObjectNode pristine = fields.deepCopy();
    ObjectNode checked = BodyFields.editableCopy(fields); // as limit.admit copies them
    RequestCaps.Result capped = caps.apply(path, checked, keyMax);
    // the copy shares every value below its second level with the policy fields: the caps must
    // not have edited one (the original would show it, and the splice would miss it)
    assertThat(fields).as("the caps edited below the copy's second level").isEqualTo(pristine);
    if (capped.rejection() != null) {
      return Outcome.UNCHANGED;
    }
    boolean usage = Limiter.needsUsage(path, checked);
    if (!capped.changed() && !usage) {
      return Outcome.UNCHANGED; // forwarded as received
    }
    if (usage) {
      Limiter.askForUsage(checked);
      assertThat(fields)
          .as("include_usage edited below the copy's second level")
          .isEqualTo(pristine);
    }
    // the full-tree rewrite, as limit.admit made it before the splice (and still does as fallback)
    ObjectNode tree = BodyFields.tree(body);
    if (capped.changed()) {
      caps.apply(path, tree, keyMax);
    }
    if (usage) {
      Limiter.askForUsage(tree);
    }
    Buffer full = BodyFields.write(tree);
    Buffer spliced = Objects.requireNonNull(scan.layout()).splice(body, fields, checked);
    if (spliced == null) {
      return Outcome.FELL_BACK;
    }
    String why = path + " key cap " + keyMax + " " + new String(text, StandardCharsets.UTF_8);
    String out = spliced.toString(StandardCharsets.UTF_8);
    JsonNode got =
        BodyCorpus.OLD.readTree(spliced.getBytes()); // well-formed, no duplicate, nothing after it
    // limit.admit hands the later readers the edited copy in place of a scan of the spliced body:
    // the two must be the same fields (compared as a boolean: a measured image has no text)
    BodyFields.Scan read = BodyFields.scan(spliced);
    assertThat(read.ambiguousNames()).as(why).isFalse();
    assertThat(Objects.equals(read.fields(), checked)).as(why).isTrue();
    // Jackson writes a double that overflowed (1e400) as the string "Infinity": the full-tree
    // rewrite changed such a number into a string, where the splice forwards the client's bytes,
    // as a body that needs no change always was. The one way the two may differ: compared as
    // the full tree would have written the spliced body
    Buffer comparable = nonFinite(got) ? BodyFields.write((ObjectNode) got) : spliced;
    assertThat(BodyCorpus.OLD.readTree(comparable.getBytes()))
        .as(why)
        .isEqualTo(BodyCorpus.OLD.readTree(full.getBytes()));
    BodyFields.Scan again = BodyFields.scan(comparable);
    assertThat(again.ambiguousNames()).as(why).isFalse();
    assertThat(Objects.equals(again.fields(), BodyFields.scan(full).fields())).as(why).isTrue();
    for (String member : untouched) {
      assertThat(out).as(why).contains(member);
    }
    return Outcome.SPLICED;
  }

  /** True when a number in {@code n} overflowed a double ({@code 1e400}). */
  private static boolean nonFinite(JsonNode n) {
    if (n.isDouble()) {
      return !Double.isFinite(n.doubleValue());
    }
    for (JsonNode c : n) {
      if (nonFinite(c)) {
        return true;
      }
    }
    return false;
  }
}
