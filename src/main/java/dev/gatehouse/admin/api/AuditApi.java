package dev.gatehouse.admin.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import dev.gatehouse.audit.AuditKey;
import dev.gatehouse.audit.AuditReader;
import dev.gatehouse.audit.AuditVerifier;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.store.AuditStore;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@code /api/v1/audit}: query the audit log's database copy, read one record, the summary per day,
 * key and model, and verify both copies (files and database) against the signed checkpoints: what
 * {@code gatehouse audit query|summary|verify} do, through the same store and verifier.
 */
final class AuditApi {

  /** The most records one query returns. */
  static final int MAX_LIMIT = 1000;

  /** Summaries as {@code audit summary --json} writes them: the record's fields in snake_case. */
  private static final ObjectMapper SNAKE =
      new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

  private final AdminContext ctx;

  AuditApi(AdminContext ctx) {
    this.ctx = ctx;
  }

  void register(AdminRoutes routes) {
    routes.add(HttpMethod.GET, "/api/v1/audit", Role.VIEWER, "Query audit records", this::query);
    routes.add(
        HttpMethod.GET,
        "/api/v1/audit/summary",
        Role.VIEWER,
        "Requests, refusals and tokens per day, key and model",
        this::summary);
    routes.add(
        HttpMethod.POST,
        "/api/v1/audit/verify",
        Role.OPERATOR,
        "Verify the audit log's hash chain and signed checkpoints",
        this::verify);
    routes.add(
        HttpMethod.GET, "/api/v1/audit/{seq}", Role.VIEWER, "One audit record", this::record);
  }

  private void query(RoutingContext rc) {
    AuditStore.AuditQuery q;
    try {
      String status = Api.param(rc, "status");
      String limit = Api.param(rc, "limit");
      q =
          new AuditStore.AuditQuery(
              Api.param(rc, "key"),
              Api.param(rc, "ip"),
              status == null ? null : number("status", status, 100, 599),
              Api.param(rc, "reason"),
              bound(rc, "since"),
              bound(rc, "until"),
              limit == null ? 100 : number("limit", limit, 1, MAX_LIMIT));
    } catch (IllegalArgumentException e) {
      Api.invalid(rc, e.getMessage());
      return;
    }
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> ctx.stores().audit().queryAudit(q),
        rows -> {
          ArrayNode a = Api.JSON.createArrayNode();
          for (AuditStore.AuditRow r : rows) {
            a.add(row(r));
          }
          Api.ok(rc, Api.wrap("records", a));
        });
  }

  private void record(RoutingContext rc) {
    long seq;
    try {
      seq = Long.parseLong(rc.pathParam("seq"));
    } catch (NumberFormatException e) {
      Api.invalid(rc, "seq: " + rc.pathParam("seq") + " (expected: a record's sequence number)");
      return;
    }
    Api.blocking(
        ctx.vertx(),
        rc,
        () ->
            ctx.stores()
                .audit()
                .auditRow(seq)
                .orElseThrow(() -> new Api.NotFound("audit record " + seq + ": not stored")),
        r -> Api.ok(rc, row(r)));
  }

  private void summary(RoutingContext rc) {
    String since;
    String until;
    try {
      since = bound(rc, "since");
      until = bound(rc, "until");
    } catch (IllegalArgumentException e) {
      Api.invalid(rc, e.getMessage());
      return;
    }
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> ctx.stores().audit().summarizeAudit(since, until),
        rows -> Api.ok(rc, Api.wrap("rows", SNAKE.valueToTree(rows))));
  }

  private void verify(RoutingContext rc) {
    GatehouseConfig config = ctx.config().get();
    Api.blocking(
        ctx.vertx(), rc, () -> verify(config, ctx.stores().audit()), result -> Api.ok(rc, result));
  }

  /**
   * Checks the files (sealed segments, then audit.jsonl) and the database copy, as {@code gatehouse
   * audit verify} does without options.
   */
  private static ObjectNode verify(GatehouseConfig config, AuditStore store) throws Exception {
    Path dir = config.dataDir();
    Path keyFile = config.audit().hmacKeyFile();
    List<String> problems = new ArrayList<>();
    long records = 0;
    if (!Files.exists(keyFile)) {
      problems.add("audit HMAC key not found: " + keyFile + " (audit.hmac_key_file)");
    } else {
      byte[] key = AuditKey.load(keyFile);
      Path cps = dir.toAbsolutePath().resolve(AuditWriter.CHECKPOINTS);
      AuditVerifier.Result files = AuditVerifier.verifyLog(dir, cps, key);
      records = files.records();
      check(problems, "files", files);
      for (AuditVerifier.Result chain : AuditVerifier.verifyChains(store, cps, key)) {
        check(problems, "database", chain); // a shared store's result names its instance
      }
    }
    boolean ok = problems.isEmpty();
    ObjectNode o = Api.JSON.createObjectNode();
    o.put("ok", ok);
    o.put("records", records);
    ArrayNode p = o.putArray("problems");
    problems.forEach(p::add);
    return o;
  }

  private static void check(List<String> problems, String copy, AuditVerifier.Result r) {
    if (!r.ok()) {
      problems.add(copy + ": " + r.describe());
    }
  }

  /** One row: its indexed fields and the record as written (hash included). */
  static ObjectNode row(AuditStore.AuditRow r) {
    ObjectNode o = Api.JSON.createObjectNode();
    o.put("seq", r.seq());
    o.put("time", r.time());
    o.put("request_id", r.requestId());
    o.put("ip", r.ip());
    if (r.keyId() == null) {
      o.putNull("key_id");
    } else {
      o.put("key_id", r.keyId());
    }
    o.put("status", r.status());
    o.put("reason", r.reason());
    JsonNode line;
    try {
      line = Api.JSON.readTree(r.line());
    } catch (JsonProcessingException e) {
      line = Api.JSON.getNodeFactory().textNode(r.line()); // shown as stored; verify names it
    }
    o.set("record", line);
    return o;
  }

  private static int number(String name, String text, int min, int max) {
    try {
      int n = Integer.parseInt(text);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new IllegalArgumentException(
        name + ": " + text + " (expected: a whole number from " + min + " to " + max + ")");
  }

  /** A time bound as the CLI takes it: 1h or 7d back from now, a date, or a UTC time. */
  private static @Nullable String bound(RoutingContext rc, String name) {
    String text = Api.param(rc, name);
    if (text == null) {
      return null;
    }
    String b = AuditReader.timeBound(text, Instant.now());
    if (b == null) {
      throw new IllegalArgumentException(
          name
              + ": "
              + text
              + " (expected: a duration back from now such as 1h or 7d, a date such as 2026-11-01,"
              + " or a UTC time such as 2026-11-01T10:00)");
    }
    return b;
  }
}
