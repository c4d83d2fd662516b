package dev.gatehouse.store;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import org.jspecify.annotations.Nullable;

/**
 * A key's own limits; each null field falls back to the global setting.
 *
 * @param rpm requests per minute (token-bucket refill rate)
 * @param burst requests allowed at once (bucket capacity)
 * @param tokensPerMinute prompt plus output tokens per minute
 * @param tokensPerDay prompt plus output tokens per UTC day
 * @param concurrency requests in flight at once
 * @param maxOutputTokens largest output cap a request may ask for
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record KeyLimits(
    @Nullable Integer rpm,
    @Nullable Integer burst,
    @Nullable Long tokensPerMinute,
    @Nullable Long tokensPerDay,
    @Nullable Integer concurrency,
    @Nullable Integer maxOutputTokens) {

  public static final KeyLimits NONE = new KeyLimits(null, null, null, null, null, null);

  @JsonIgnore
  public boolean isEmpty() {
    return equals(NONE);
  }
}
