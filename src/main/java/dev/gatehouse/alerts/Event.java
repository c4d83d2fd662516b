package dev.gatehouse.alerts;

import dev.gatehouse.audit.AuditRecord;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Something alert rules can watch: a finished request (from its audit record) or a gateway event
 * such as the upstream going down. Never carries key material or prompt text.
 */
public interface Event {

  /** One of {@link AlertRule#EVENTS}. */
  String type();

  /** When it happened, epoch milliseconds. */
  long timeMillis();

  /** A field's value as text, or null when the event has none. */
  @Nullable String field(String name);

  /** Tokens in and out, or 0. */
  long tokens();

  /** Bytes in and out, or 0. */
  long bytes();

  /** What an alert shows of the event. */
  Map<String, Object> describe();

  /** A finished request. {@code off_hours} is answered by {@code hours}. */
  static Event request(AuditRecord r, long timeMillis, ManageHours hours) {
    return new Request(r, timeMillis, hours);
  }

  /** A gateway event with the given fields (null values are left out). */
  static Event of(String type, long timeMillis, Map<String, String> fields) {
    Map<String, String> present = new LinkedHashMap<>();
    fields.forEach(
        (k, v) -> {
          if (v != null) {
            present.put(k, v);
          }
        });
    return new Other(type, timeMillis, java.util.Collections.unmodifiableMap(present));
  }

  /** A request, read straight from its audit record. */
  record Request(AuditRecord r, long timeMillis, ManageHours hours) implements Event {
    @Override
    public String type() {
      return "requests";
    }

    @Override
    public @Nullable String field(String name) {
      return field(r, name, timeMillis, hours);
    }

    /** A request's field, read from its record without building an event. */
    static @Nullable String field(AuditRecord r, String name, long timeMillis, ManageHours hours) {
      return switch (name) {
        case "ip" -> r.ip();
        case "key" -> r.keyId();
        case "key_name" -> r.keyName();
        case "op" -> r.op();
        case "model" -> r.model();
        case "status" -> status(r.status());
        case "decision" -> r.decision();
        case "reason" -> r.reason();
        case "path" -> r.path();
        case "method" -> r.method();
        case "off_hours" -> Boolean.toString(hours.outside(timeMillis));
        default -> null;
      };
    }

    /** The status as text; from a table for the HTTP range, so that a rule on it allocates none. */
    private static String status(int status) {
      return status >= 100 && status < 600 ? STATUSES.get(status - 100) : Integer.toString(status);
    }

    private static final List<String> STATUSES =
        java.util.stream.IntStream.range(100, 600).mapToObj(Integer::toString).toList();

    /** A request's tokens in and out. */
    static long tokens(AuditRecord r) {
      return Math.max(0, r.tokensIn()) + Math.max(0, r.tokensOut());
    }

    /** A request's bytes in and out. */
    static long bytes(AuditRecord r) {
      return r.bytesIn() + r.bytesOut();
    }

    @Override
    public long tokens() {
      return tokens(r);
    }

    @Override
    public long bytes() {
      return bytes(r);
    }

    @Override
    public Map<String, Object> describe() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", "request");
      m.put("time", r.time());
      m.put("request_id", r.requestId());
      m.put("ip", r.ip());
      m.put("key_id", r.keyId());
      m.put("key_name", r.keyName());
      m.put("method", r.method());
      m.put("path", r.path());
      m.put("op", r.op());
      m.put("model", r.model());
      m.put("status", r.status());
      m.put("decision", r.decision());
      m.put("reason", r.reason());
      m.put("user_agent", r.userAgent());
      return m;
    }
  }

  /** Any other event: a type and some fields. */
  record Other(String type, long timeMillis, Map<String, String> fields) implements Event {
    @Override
    public @Nullable String field(String name) {
      return fields.get(name);
    }

    @Override
    public long tokens() {
      return 0;
    }

    @Override
    public long bytes() {
      return 0;
    }

    @Override
    public Map<String, Object> describe() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", type);
      m.put("time", java.time.Instant.ofEpochMilli(timeMillis).toString());
      new java.util.TreeMap<>(fields).forEach(m::put);
      return m;
    }
  }
}
