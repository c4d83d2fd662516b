package dev.gatehouse.alerts;

import dev.gatehouse.audit.AuditRecord;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Evaluates alert rules against events as they happen. Each rule keeps, per group (an address, a
 * key, ...), a sliding window of {@value #SLOTS} slots; when a group's total crosses the rule's
 * threshold outside its cooldown, an {@link Alert} is logged and handed to the sink (the webhook).
 * Observing costs a few map lookups and never blocks or does I/O, so it runs on the event loops.
 * Thread-safe.
 *
 * <p>The window is slotted: a total covers between {@code window * (SLOTS-1)/SLOTS} and the whole
 * window of history. Idle groups are dropped by {@link #sweep}; a rule holds at most {@value
 * #MAX_GROUPS} groups, past which new groups share one overflow group.
 */
public final class AlertEngine {

  static final int SLOTS = 12;
  static final int MAX_GROUPS = 50_000;
  static final String OVERFLOW = "(overflow)";

  private static final Logger LOG = Logger.getLogger("gatehouse.alerts");

  private final List<AlertRule> rules;
  private final List<Map<String, Window>> groups;
  private final Consumer<Alert> sink;
  private final AtomicLong fired = new AtomicLong();
  private final RecentAlerts recent = new RecentAlerts(RecentAlerts.CAPACITY);

  /**
   * @param sink receives each alert after it is logged; must not block
   */
  public AlertEngine(List<AlertRule> rules, Consumer<Alert> sink) {
    this.rules = List.copyOf(rules);
    this.groups =
        this.rules.stream()
            .map(r -> (Map<String, Window>) new ConcurrentHashMap<String, Window>())
            .toList();
    this.sink = sink;
  }

  /** The most recent alerts raised, for the admin API. */
  public RecentAlerts recent() {
    return recent;
  }

  /** Alerts raised since start. */
  public long fired() {
    return fired.get();
  }

  /** Feeds one event to every rule that watches it. */
  public void observe(Event e) {
    observe(e.type(), e, null, e.timeMillis(), null);
  }

  /**
   * Feeds a finished request to every rule that watches requests, as {@link #observe} would its
   * {@link Event#request}, but reading the record in place: the event is built only for an alert.
   */
  public void request(AuditRecord r, long timeMillis, ManageHours hours) {
    observe("requests", null, r, timeMillis, hours);
  }

  /**
   * The one evaluation, over an event ({@code e}) or a request's record ({@code r} with {@code
   * hours}). Per rule: its conditions, one map read for the group, and its window's fixed slots; so
   * the cost does not grow with the requests seen, and nothing is allocated until a rule fires or a
   * group is first seen.
   */
  private void observe(
      String type,
      @Nullable Event e,
      @Nullable AuditRecord r,
      long millis,
      @Nullable ManageHours hours) {
    for (int i = 0; i < rules.size(); i++) {
      AlertRule rule = rules.get(i);
      if (!rule.event().equals(type) || !matches(rule, e, r, millis, hours)) {
        continue;
      }
      String group = rule.groupBy() == null ? "" : field(rule.groupBy(), e, r, millis, hours);
      if (group == null) {
        group = "-";
      }
      Map<String, Window> windows = groups.get(i);
      Window w = windows.get(group);
      if (w == null) {
        if (windows.size() >= MAX_GROUPS) {
          group = OVERFLOW;
        }
        w = windows.computeIfAbsent(group, g -> new Window());
      }
      long amount =
          e != null
              ? rule.amount(e.tokens(), e.bytes())
              : rule.amount(Event.Request.tokens(need(r)), Event.Request.bytes(need(r)));
      long suppressed = w.add(rule, millis, amount);
      if (suppressed >= 0) {
        Event fired = e != null ? e : Event.request(need(r), millis, need(hours));
        fire(rule, group, w.total(rule, millis), fired, suppressed);
      }
    }
  }

  private static boolean matches(
      AlertRule rule,
      @Nullable Event e,
      @Nullable AuditRecord r,
      long millis,
      @Nullable ManageHours hours) {
    List<AlertRule.Condition> where = rule.where();
    for (int c = 0; c < where.size(); c++) { // by index: no iterator per request
      AlertRule.Condition cond = where.get(c);
      if (!cond.test(field(cond.field(), e, r, millis, hours))) {
        return false;
      }
    }
    return true;
  }

  private static @Nullable String field(
      String name,
      @Nullable Event e,
      @Nullable AuditRecord r,
      long millis,
      @Nullable ManageHours hours) {
    return e != null ? e.field(name) : Event.Request.field(need(r), name, millis, need(hours));
  }

  /** The record or hours that {@link #request} passes whenever no event is. */
  private static <T> T need(@Nullable T t) {
    return java.util.Objects.requireNonNull(t);
  }

  private void fire(AlertRule rule, String group, long total, Event e, long suppressed) {
    fired.incrementAndGet();
    String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    Alert a = new Alert(id, rule, group, total, e.timeMillis(), e, suppressed);
    LOG.warning("alert id=" + id + " severity=" + rule.severity() + " " + a.summary());
    recent.add(a);
    sink.accept(a);
  }

  /** Drops groups that have been idle for longer than their rule's window and cooldown. */
  public void sweep(long nowMillis) {
    for (int i = 0; i < rules.size(); i++) {
      AlertRule rule = rules.get(i);
      long idle = rule.window().toMillis() + rule.cooldown().toMillis();
      groups.get(i).values().removeIf(w -> w.idleSince(nowMillis - idle));
    }
  }

  /** Groups tracked now, over all rules. */
  public int groupCount() {
    return groups.stream().mapToInt(Map::size).sum();
  }

  /** One group's sliding window and cooldown. Guarded by itself. */
  private static final class Window {
    private final long[] slotIds = new long[SLOTS];
    private final long[] sums = new long[SLOTS];
    private long lastMillis;
    private long quietUntil = Long.MIN_VALUE;
    private long suppressed;

    /** Adds an event; returns -1, or when the rule fires, how many were suppressed before it. */
    synchronized long add(AlertRule rule, long millis, long amount) {
      long slot = slotOf(rule, millis);
      int idx = (int) Math.floorMod(slot, (long) SLOTS);
      if (slotIds[idx] != slot) {
        slotIds[idx] = slot;
        sums[idx] = 0;
      }
      sums[idx] += amount;
      lastMillis = Math.max(lastMillis, millis);
      if (!rule.crossed(total(rule, millis))) {
        return -1;
      }
      if (millis < quietUntil) {
        suppressed++;
        return -1;
      }
      long s = suppressed;
      suppressed = 0;
      quietUntil = millis + rule.cooldown().toMillis();
      return s;
    }

    synchronized long total(AlertRule rule, long millis) {
      long slot = slotOf(rule, millis);
      long t = 0;
      for (int i = 0; i < SLOTS; i++) {
        if (slotIds[i] > slot - SLOTS && slotIds[i] <= slot) {
          t += sums[i];
        }
      }
      return t;
    }

    synchronized boolean idleSince(long millis) {
      return lastMillis < millis && quietUntil < millis;
    }

    private static long slotOf(AlertRule rule, long millis) {
      long width = Math.max(1, rule.window().toMillis() / SLOTS);
      return Math.floorDiv(millis, width);
    }
  }
}
