package dev.gatehouse.abuse;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.store.BanRecord;
import java.time.Instant;
import java.util.List;

/**
 * Bans as indicators of compromise: the one JSON shape and the one CSV that {@code gatehouse bans}
 * and the admin API's {@code /api/v1/bans} both write. Paths and reasons come from attackers, so a
 * CSV cell is written so that a spreadsheet never runs it.
 */
public final class BanExport {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The CSV columns, in order; the JSON fields have the same names. */
  public static final List<String> CSV_COLUMNS =
      List.of(
          "ip",
          "status",
          "first_seen",
          "last_seen",
          "request_count",
          "reasons",
          "sample_paths",
          "banned_at",
          "banned_until",
          "times",
          "source");

  private BanExport() {}

  /** {@code banned} while the ban is in force at {@code now}, else {@code ended}. */
  public static String status(BanRecord r, Instant now) {
    return r.activeAt(now) ? "banned" : "ended";
  }

  /** One ban as JSON. */
  public static ObjectNode toJson(BanRecord r, Instant now) {
    ObjectNode o = JSON.createObjectNode();
    o.put("ip", r.ip());
    o.put("status", status(r, now));
    o.put("first_seen", r.firstSeen().toString());
    o.put("last_seen", r.lastSeen().toString());
    o.put("request_count", r.requests());
    ArrayNode reasons = o.putArray("reasons");
    r.reasons().forEach(reasons::add);
    ArrayNode paths = o.putArray("sample_paths");
    r.samplePaths().forEach(paths::add);
    o.put("banned_at", r.bannedAt().toString());
    if (r.bannedUntil() == null) {
      o.putNull("banned_until");
    } else {
      o.put("banned_until", r.bannedUntil().toString());
    }
    o.put("times", r.times());
    o.put("source", r.source());
    return o;
  }

  /** Bans as a JSON array. */
  public static ArrayNode toJson(List<BanRecord> rows, Instant now) {
    ArrayNode a = JSON.createArrayNode();
    rows.forEach(r -> a.add(toJson(r, now)));
    return a;
  }

  /** The CSV document (RFC 4180, CRLF line ends): the header, then one line per ban. */
  public static String csv(List<BanRecord> rows, Instant now) {
    StringBuilder out = new StringBuilder(String.join(",", CSV_COLUMNS)).append("\r\n");
    for (BanRecord r : rows) {
      List<String> cells =
          List.of(
              r.ip(),
              status(r, now),
              r.firstSeen().toString(),
              r.lastSeen().toString(),
              Long.toString(r.requests()),
              String.join(";", r.reasons().stream().map(s -> s.replace(';', ',')).toList()),
              String.join(";", r.samplePaths()),
              r.bannedAt().toString(),
              r.bannedUntil() == null ? "" : r.bannedUntil().toString(),
              Integer.toString(r.times()),
              r.source());
      out.append(String.join(",", cells.stream().map(BanExport::cell).toList())).append("\r\n");
    }
    return out.toString();
  }

  /**
   * One RFC 4180 cell. Paths and reasons come from attackers, so a cell that a spreadsheet would
   * run as a formula (= + - @ and control characters first) is prefixed with an apostrophe.
   */
  public static String cell(String cell) {
    String c = cell;
    if (!c.isEmpty() && "=+-@\t\r".indexOf(c.charAt(0)) >= 0) {
      c = "'" + c;
    }
    if (c.contains(",") || c.contains("\"") || c.contains("\n") || c.contains("\r")) {
      c = "\"" + c.replace("\"", "\"\"") + "\"";
    }
    return c;
  }
}
