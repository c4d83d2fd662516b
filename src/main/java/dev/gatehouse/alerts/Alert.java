package dev.gatehouse.alerts;

import dev.gatehouse.config.DurationText;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A rule that fired: which rule, for which group, the total that crossed its threshold, and the
 * event that tipped it. Immutable.
 *
 * @param suppressed events that crossed the threshold for this group during the previous cooldown
 *     and so raised no alert of their own
 */
public record Alert(
    String id,
    AlertRule rule,
    String groupValue,
    long total,
    long timeMillis,
    Event event,
    long suppressed) {

  /** One line for the log and the webhook's {@code summary}. */
  public String summary() {
    String unit =
        switch (rule.measure()) {
          case "tokens" -> " tokens";
          case "bytes" -> " bytes";
          default -> rule.event().equals("requests") ? " requests" : " " + rule.event() + " events";
        };
    return rule.name()
        + ": "
        + total
        + unit
        + (rule.groupBy() == null ? "" : " from " + rule.groupBy() + " " + groupValue)
        + " in "
        + DurationText.duration(rule.window().toMillis())
        + " (threshold "
        + (rule.strictlyAbove() ? "> " : ">= ")
        + rule.threshold()
        + ")"
        + (suppressed > 0 ? "; " + suppressed + " more suppressed during the cooldown" : "");
  }

  /** The webhook's JSON body, as a map. */
  public Map<String, Object> payload(String gateway) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("alert", rule.name());
    m.put("severity", rule.severity());
    m.put("time", Instant.ofEpochMilli(timeMillis).toString());
    m.put("summary", summary());
    m.put("rule", rule.text());
    if (rule.groupBy() != null) {
      m.put("group", Map.of("by", rule.groupBy(), "value", groupValue));
    }
    m.put("value", total);
    m.put("threshold", rule.threshold());
    m.put("window_seconds", rule.window().toSeconds());
    m.put("suppressed", suppressed);
    m.put("event", event.describe());
    m.put("gateway", gateway);
    return m;
  }
}
