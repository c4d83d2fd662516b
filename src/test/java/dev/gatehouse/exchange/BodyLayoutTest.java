package dev.gatehouse.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * A splice writes exactly the changed values and the new members, keeps every other byte, and
 * answers "cannot splice" (null) for each change it cannot express, so the caller writes the full
 * tree instead.
 */
class BodyLayoutTest {

  /** The body after {@code edit} on a copy of its policy fields, spliced; null: cannot splice. */
  private static @Nullable String splice(String body, Consumer<ObjectNode> edit)
      throws IOException {
    Buffer b = Buffer.buffer(body.getBytes(StandardCharsets.UTF_8));
    BodyFields.Scan scan = BodyFields.scan(b);
    ObjectNode fields = Objects.requireNonNull(scan.fields());
    ObjectNode edited = fields.deepCopy();
    edit.accept(edited);
    Buffer out = Objects.requireNonNull(scan.layout()).splice(b, fields, edited);
    return out == null ? null : out.toString(StandardCharsets.UTF_8);
  }

  private static ObjectNode options(ObjectNode body) {
    return (ObjectNode) Objects.requireNonNull(body.get("options"));
  }

  @Test
  void insertsANewObjectBeforeTheClosingBraceKeepingEveryOtherByte() throws IOException {
    // why: the common rewrite (an Ollama chat without options gets the output cap); the image and
    // the client's odd whitespace stay byte for byte
    String body = "{ \"model\" : \"m\" ,\n \"images\":[ \"aGVsbG8=\" ]\t}";
    assertThat(splice(body, b -> b.putObject("options").put("num_predict", 512)))
        .isEqualTo(
            "{ \"model\" : \"m\" ,\n \"images\":[ \"aGVsbG8=\" ]\t,\"options\":{\"num_predict\":512}}");
  }

  @Test
  void insertsIntoAnEmptyObjectWithoutAComma() throws IOException {
    // why: a comma after "{" would be malformed JSON
    assertThat(splice("{\"options\":{ }}", b -> options(b).put("num_predict", 5)))
        .isEqualTo("{\"options\":{ \"num_predict\":5}}");
    assertThat(splice("{ }", b -> b.put("max_tokens", 5))).isEqualTo("{ \"max_tokens\":5}");
  }

  @Test
  void addsToAnObjectAfterMembersTheScanSkipped() throws IOException {
    // why: options' other members (temperature) are not in the policy fields, but are in the body
    assertThat(
            splice(
                "{\"options\":{\"temperature\":0.5, \"stop\":[\"x\"]} ,\"stream\":true}",
                b -> options(b).put("num_predict", 5)))
        .isEqualTo(
            "{\"options\":{\"temperature\":0.5, \"stop\":[\"x\"],\"num_predict\":5} ,\"stream\":true}");
  }

  @Test
  void replacesOnlyAChangedValuesBytes() throws IOException {
    // why: a float 4096.0 is forwarded as the integer that was checked; the name's escape stays
    assertThat(
            splice(
                "{\"options\" : { \"num\\u005fpredict\" :  4096.0 , \"num_ctx\":1e30 }, \"keep_alive\":-1}",
                b -> {
                  options(b).put("num_predict", 4096).put("num_ctx", 2048);
                  b.put("keep_alive", "600s");
                }))
        .isEqualTo(
            "{\"options\" : { \"num\\u005fpredict\" :  4096 , \"num_ctx\":2048 }, \"keep_alive\":\"600s\"}");
  }

  @Test
  void replacesAValueOfAnotherKindWhole() throws IOException {
    // why: "options": 5 or [] becomes the object the caps created, as the full tree would write it
    assertThat(splice("{\"options\":[1,{}],\"x\":1}", b -> b.putObject("options").put("n", 1)))
        .isEqualTo("{\"options\":{\"n\":1},\"x\":1}");
    assertThat(splice("{\"stream_options\":5}", b -> b.putObject("stream_options")))
        .isEqualTo("{\"stream_options\":{}}");
  }

  @Test
  void writesNamesAndValuesJsonEscaped() throws IOException {
    // why: a name or value with a quote, a backslash or a control character must stay one string
    assertThat(splice("{}", b -> b.put("a\"b\\c\n", "é\"\u0001")))
        .isEqualTo("{\"a\\\"b\\\\c\\n\":\"é\\\"\\u0001\"}");
  }

  @Test
  void anUnchangedBodyIsReturnedAsItIs() throws IOException {
    assertThat(splice("{\"model\" : \"m\"}", b -> {})).isEqualTo("{\"model\" : \"m\"}");
  }

  @Test
  void refusesWhatItCannotExpress() throws IOException {
    // why: each of these falls back to the full tree; a guess would change what the upstream gets
    // a removed member
    assertThat(splice("{\"model\":\"m\",\"stream\":true}", b -> b.remove("stream"))).isNull();
    // a changed array (the policy fields hold it pruned)
    assertThat(splice("{\"messages\":[{\"role\":\"user\"}]}", b -> b.putArray("messages")))
        .isNull();
    // a change deeper than the layout reaches
    assertThat(
            splice(
                "{\"tool_choice\":{\"tools\":[{\"type\":\"a\"}]}}",
                b -> ((ObjectNode) b.get("tool_choice")).put("tools", 1)))
        .isNotNull(); // a level-one member's value: still spliced
    assertThat(
            splice(
                "{\"content\":{\"source\":{\"data\":\"x\",\"other\":1}}}",
                b -> ((ObjectNode) b.get("content").get("source")).put("k", 1)))
        .isNull();
    // an object the scan kept only as its kind ("model" is read as a scalar)
    assertThat(splice("{\"model\":{\"a\":1}}", b -> ((ObjectNode) b.get("model")).put("b", 2)))
        .isNull();
    // a new name that repeats one the scan skipped, or folds to one the object has
    assertThat(splice("{\"options\":{\"seed\":1}}", b -> options(b).put("seed", 2))).isNull();
    assertThat(
            splice("{\"options\":{\"NUM_PREDICT\":null}}", b -> options(b).put("num_predict", 5)))
        .isNull();
    // a new array, an object inside a new object, a measured image payload
    assertThat(splice("{}", b -> b.putArray("a"))).isNull();
    assertThat(splice("{}", b -> b.putObject("a").putObject("b"))).isNull();
    assertThat(
            splice("{\"images\":[\"aGVsbG8=\"]}", b -> b.set("max_tokens", b.get("images").get(0))))
        .isNull();
  }

  @Test
  void refusesAnotherBodyThanTheOneItDescribes() throws IOException {
    // why: offsets of one body applied to another would corrupt it
    Buffer body = Buffer.buffer("{\"a\":1}");
    BodyFields.Scan scan = BodyFields.scan(body);
    ObjectNode edited = Objects.requireNonNull(scan.fields()).deepCopy().put("a", 2);
    assertThat(
            Objects.requireNonNull(scan.layout())
                .splice(Buffer.buffer("{\"a\":10}"), Objects.requireNonNull(scan.fields()), edited))
        .isNull();
  }

  @Test
  void aBodyThatIsNotAnObjectHasNoLayout() throws IOException {
    assertThat(BodyFields.scan(Buffer.buffer("[{\"a\":1}]")).layout()).isNull();
    assertThat(BodyFields.scan(Buffer.buffer("")).layout()).isNull();
  }

  @Test
  void keepsOffsetsRightAfterAByteOrderMark() throws IOException {
    // why: Jackson skips a UTF-8 byte order mark; offsets counted from after it would splice
    // three bytes off
    String bom = "\uFEFF";
    assertThat(splice(bom + "{\"n\":1, \"b\":2}", b -> b.put("n", 5).put("stream", true)))
        .isEqualTo(bom + "{\"n\":5, \"b\":2,\"stream\":true}");
  }

  @Test
  void splicesABodyThatStartsInsideItsArray() throws IOException {
    // why: a heap buffer's bytes may start past the start of its array (a slice); the layout's
    // offsets are the body's own
    Buffer body = Buffer.buffer("xx{\"n\":1 }yy").slice(2, 10);
    BodyFields.Scan scan = BodyFields.scan(body);
    ObjectNode fields = Objects.requireNonNull(scan.fields());
    Buffer out =
        Objects.requireNonNull(scan.layout())
            .splice(body, fields, fields.deepCopy().put("stream", true));
    assertThat(Objects.requireNonNull(out).toString(StandardCharsets.UTF_8))
        .isEqualTo("{\"n\":1 ,\"stream\":true}");
  }

  @Test
  void writesEachValueAsJacksonWouldByteForByte() throws IOException {
    // why: the splice writes its small values without a generator; a byte that differs from what
    // the full-tree path writes would make the two paths forward different bodies
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode nested = f.objectNode().put("num_ctx", 4096).put("num_predict", -1);
    nested.put("q\"uote", "a\\b").put("x", 1.5).putNull("n").put("t", true);
    List<JsonNode> values =
        List.of(
            f.numberNode(0),
            f.numberNode(-2147483648),
            f.numberNode(Long.MAX_VALUE),
            f.numberNode(Long.MIN_VALUE),
            f.numberNode((short) 7),
            f.numberNode(new BigInteger("123456789012345678901234567890")),
            f.numberNode(-0.0),
            f.numberNode(1e300),
            f.numberNode(2.5f),
            f.numberNode(new BigDecimal("1.000")),
            f.booleanNode(true),
            f.booleanNode(false),
            f.nullNode(),
            f.textNode(""),
            f.textNode("300s"),
            f.textNode("tab\there"),
            f.textNode("quote \" and \\ slash /"),
            f.textNode("\u0000\u001f\u007f"),
            f.textNode("caf\u00e9 \u6f22 \ud83d\ude00"),
            f.textNode("</script>"),
            f.objectNode(),
            nested);
    for (JsonNode v : values) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BodyLayout.writeValue(out, v);
      assertThat(out.toString(StandardCharsets.UTF_8))
          .as("%s", v)
          .isEqualTo(new String(BodyFields.STRICT.writeValueAsBytes(v), StandardCharsets.UTF_8));
    }
    for (String name : List.of("options", "MAX_TOKENS", "a\"b", "\u00e9", "", "tab\t")) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BodyLayout.writeString(out, name);
      assertThat(out.toString(StandardCharsets.UTF_8))
          .as("%s", name)
          .isEqualTo(new String(BodyFields.STRICT.writeValueAsBytes(name), StandardCharsets.UTF_8));
    }
  }
}
