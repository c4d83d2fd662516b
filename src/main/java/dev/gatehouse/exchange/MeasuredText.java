package dev.gatehouse.exchange;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ValueNode;

/**
 * A string of a request body that stands where an image payload goes (an {@code images} entry, an
 * {@code image_url}, an Anthropic {@code source.data}), kept as its measurements instead of its
 * text: a 10 MB base64 image would otherwise become a 20 MB Java string. It reads as a string node
 * ({@link #isTextual()}), so the policy code's shape checks see what the full tree has there, but
 * its text cannot be read: {@link #asText()} throws, so a reader that would need the text fails
 * (and its stage refuses) rather than reading something else. Only the request caps read these,
 * through {@link #payloadChars()}. Immutable.
 */
public final class MeasuredText extends ValueNode {

  private static final long serialVersionUID = 1L;

  private final long chars;
  private final long payloadChars;

  /**
   * @param chars the string's length in UTF-16 units, as {@link String#length()} would give it
   * @param payloadChars the length less a {@code data:...,} prefix when the string starts with
   *     {@code data:} (everything up to and including its first comma)
   */
  MeasuredText(long chars, long payloadChars) {
    this.chars = chars;
    this.payloadChars = payloadChars;
  }

  /** The string's length in UTF-16 units. */
  public long chars() {
    return chars;
  }

  /**
   * The length of the base64 payload: the whole string, or what follows the first comma of a {@code
   * data:} URL.
   */
  public long payloadChars() {
    return payloadChars;
  }

  @Override
  public JsonNodeType getNodeType() {
    return JsonNodeType.STRING;
  }

  @Override
  public JsonToken asToken() {
    return JsonToken.VALUE_STRING;
  }

  @Override
  public String asText() {
    throw new UnsupportedOperationException("an image payload is measured, not kept");
  }

  @Override
  public void serialize(JsonGenerator g, SerializerProvider provider) {
    throw new UnsupportedOperationException("an image payload is measured, not kept");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MeasuredText m && m.chars == chars && m.payloadChars == payloadChars;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(chars * 31 + payloadChars);
  }

  @Override
  public String toString() {
    return "<image payload of " + chars + " chars>";
  }
}
