package dev.gatehouse.store;

import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One banned (or formerly banned) client address, with what was seen of it: the indicator of
 * compromise that {@code gatehouse bans export} writes.
 *
 * @param ip the canonical address
 * @param bannedAt start of the latest ban
 * @param bannedUntil end of the latest ban, or null for until removed by hand
 * @param times how many times the address has been banned, the latest included
 * @param source {@code auto} or {@code manual}, for the latest ban
 * @param reasons distinct reasons, oldest first
 * @param firstSeen first request seen from the address
 * @param lastSeen latest request seen, refused ones included
 * @param requests requests seen, refused ones included
 * @param samplePaths distinct request paths seen, oldest first
 */
public record BanRecord(
    String ip,
    Instant bannedAt,
    @Nullable Instant bannedUntil,
    int times,
    String source,
    List<String> reasons,
    Instant firstSeen,
    Instant lastSeen,
    long requests,
    List<String> samplePaths) {

  /** Most reasons and sample paths kept per address. */
  public static final int MAX_SAMPLES = 10;

  /** True while the ban is in force. */
  public boolean activeAt(Instant now) {
    return bannedUntil == null || now.isBefore(bannedUntil);
  }
}
