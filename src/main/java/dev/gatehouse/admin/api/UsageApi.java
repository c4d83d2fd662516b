package dev.gatehouse.admin.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import dev.gatehouse.store.UsageStore.UsageRow;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * {@code GET /api/v1/usage}: tokens and requests per UTC day, key and model, from the usage store
 * as {@code gatehouse usage} reads it; with {@code group}, summed over the other two.
 */
final class UsageApi {

  private final AdminContext ctx;

  UsageApi(AdminContext ctx) {
    this.ctx = ctx;
  }

  void register(AdminRoutes routes) {
    routes.add(
        HttpMethod.GET, "/api/v1/usage", Role.VIEWER, "Usage per day, key and model", this::usage);
  }

  private void usage(RoutingContext rc) {
    String since = Api.param(rc, "since");
    String key = Api.param(rc, "key");
    String group = Api.param(rc, "group");
    String from;
    try {
      from =
          since == null
              ? LocalDate.now(ZoneOffset.UTC).minusDays(6).toString()
              : LocalDate.parse(since).toString();
    } catch (DateTimeParseException e) {
      Api.invalid(rc, "since: " + since + " (expected: a date such as 2026-11-01)");
      return;
    }
    Function<UsageRow, String> by;
    if (group == null) {
      by = r -> r.day() + "\n" + r.keyId() + "\n" + r.model();
    } else {
      switch (group) {
        case "day" -> by = UsageRow::day;
        case "key" -> by = UsageRow::keyId;
        case "model" -> by = UsageRow::model;
        default -> {
          Api.invalid(rc, "group: " + group + " (expected: day, key or model)");
          return;
        }
      }
    }
    Function<UsageRow, String> groupBy = by;
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> ctx.stores().usage().usageSince(from, key),
        rows -> Api.ok(rc, Api.wrap("rows", grouped(rows, groupBy, group))));
  }

  /** Rows summed per group, oldest first as the store returns them; a summed-away field is null. */
  private static ArrayNode grouped(
      List<UsageRow> rows, Function<UsageRow, String> by, @Nullable String group) {
    Map<String, ObjectNode> out = new LinkedHashMap<>();
    for (UsageRow r : rows) {
      ObjectNode o =
          out.computeIfAbsent(
              by.apply(r),
              k -> {
                ObjectNode n = Api.JSON.createObjectNode();
                put(n, "day", r.day(), group == null || group.equals("day"));
                put(n, "key_id", r.keyId(), group == null || group.equals("key"));
                put(n, "model", r.model(), group == null || group.equals("model"));
                n.put("requests", 0L);
                n.put("tokens_in", 0L);
                n.put("tokens_out", 0L);
                return n;
              });
      o.put("requests", o.get("requests").asLong() + r.requests());
      o.put("tokens_in", o.get("tokens_in").asLong() + r.tokensIn());
      o.put("tokens_out", o.get("tokens_out").asLong() + r.tokensOut());
    }
    ArrayNode a = Api.JSON.createArrayNode();
    out.values().forEach(a::add);
    return a;
  }

  private static void put(ObjectNode n, String field, String value, boolean kept) {
    if (kept) {
      n.put(field, value);
    } else {
      n.putNull(field);
    }
  }
}
