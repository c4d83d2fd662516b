package dev.gatehouse.exchange;

/**
 * The token budgets that apply to one principal, per minute and per day; 0 means none. The limit
 * stage works them out, and the usage tap spends them as the response streams.
 */
public record Budgets(long perMinute, long perDay) {
  public boolean any() {
    return perMinute > 0 || perDay > 0;
  }
}
