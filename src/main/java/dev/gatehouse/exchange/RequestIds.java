package dev.gatehouse.exchange;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The request id every answer of the data plane carries ({@code X-Request-Id}, the error body's
 * {@code request_id}, the access and audit logs): 16 lower-case hex digits, random. One place mints
 * it, whether the pipeline ran ({@link Exchange}) or the framing check refused the bytes before it
 * could.
 */
public final class RequestIds {

  private RequestIds() {}

  /** A new request id. */
  public static String next() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }
}
