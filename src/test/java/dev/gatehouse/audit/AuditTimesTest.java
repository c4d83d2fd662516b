package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The cached formatter gives the formatter's text for every time, in any order. */
class AuditTimesTest {

  static String slow(long millis) {
    return AuditRecord.TIME.format(Instant.ofEpochMilli(millis));
  }

  @Test
  void formatsAsTheFormatterDoes() {
    AuditTimes times = new AuditTimes();
    long day = 86_400_000L;
    long[] starts = {
      1_795_000_000_000L, // an ordinary day
      20_000 * day - 1500, // across midnight
      -2500, // before the epoch, across it
      0,
      253_402_300_799_000L - 1200, // the last second of 9999, into 10000: not fixed width
    };
    for (long start : starts) {
      for (long t = start; t < start + 2500; t += 7) {
        assertThat(times.format(t)).isEqualTo(slow(t));
        assertThat(times.format(t)).isEqualTo(slow(t)); // the same millisecond again
      }
      for (long t = start + 2500; t > start; t -= 13) { // and going back in time
        assertThat(times.format(t)).isEqualTo(slow(t));
      }
    }
  }

  @Test
  void theSameMillisecondSharesItsText() {
    AuditTimes times = new AuditTimes();
    assertThat(times.format(1_795_000_000_123L)).isSameAs(times.format(1_795_000_000_123L));
  }
}
