package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The stores' JSON columns read from Jackson's tree: what the stores write reads back the same, and
 * as Jackson's data binding read it; what they never write is refused.
 */
class StoredJsonTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A KeyLimits with only component {@code only} set (all when -1), each to {@code value}. */
  private static KeyLimits limitsWith(int only, long value) throws Exception {
    RecordComponent[] rc = KeyLimits.class.getRecordComponents();
    Object[] args = new Object[rc.length];
    for (int i = 0; i < rc.length; i++) {
      if (only == -1 || only == i) {
        args[i] =
            rc[i].getType() == Integer.class ? (Object) (int) value : (Object) Long.valueOf(value);
      }
    }
    Class<?>[] types = new Class<?>[rc.length];
    for (int i = 0; i < rc.length; i++) {
      types[i] = rc[i].getType();
    }
    return KeyLimits.class.getDeclaredConstructor(types).newInstance(args);
  }

  @Test
  void everyComponentOfKeyLimitsReadsBackAsWritten() throws Exception {
    // one component at a time, found by reflection: a component added to KeyLimits and not to
    // the reader fails here
    int n = KeyLimits.class.getRecordComponents().length;
    for (int i = -1; i < n; i++) {
      for (long v : new long[] {0, 1, 60, Integer.MAX_VALUE}) {
        KeyLimits k = limitsWith(i, v);
        String text = JSON.writeValueAsString(k);
        assertThat(StoredJson.limits(text)).as(text).isEqualTo(k);
      }
    }
    assertThat(StoredJson.limits(JSON.writeValueAsString(KeyLimits.NONE)))
        .isEqualTo(KeyLimits.NONE);
    KeyLimits big = new KeyLimits(null, null, Long.MAX_VALUE, Long.MAX_VALUE - 1, null, null);
    assertThat(StoredJson.limits(JSON.writeValueAsString(big))).isEqualTo(big);
  }

  @Test
  void readsWhatDataBindingRead() throws Exception {
    Random r = new Random(12);
    for (int i = 0; i < 2_000; i++) {
      KeyLimits k =
          new KeyLimits(
              r.nextBoolean() ? null : r.nextInt(),
              r.nextBoolean() ? null : r.nextInt(1_000),
              r.nextBoolean() ? null : r.nextLong(),
              r.nextBoolean() ? null : Math.abs(r.nextLong()),
              r.nextBoolean() ? null : r.nextInt(64),
              r.nextBoolean() ? null : r.nextInt());
      String text = JSON.writeValueAsString(k);
      assertThat(StoredJson.limits(text)).isEqualTo(JSON.readValue(text, KeyLimits.class));
    }
    // explicit nulls, in any order, and spaces
    String text = "{ \"max_output_tokens\" : 5, \"rpm\": null, \"tokens_per_day\": 7 }";
    assertThat(StoredJson.limits(text))
        .isEqualTo(JSON.readValue(text, KeyLimits.class))
        .isEqualTo(new KeyLimits(null, null, null, 7L, null, 5));
  }

  @Test
  void limitsTheStoresNeverWriteAreRefused() {
    for (String bad :
        List.of(
            "{\"rpm\": \"60\"}",
            "{\"rpm\": 1.5}",
            "{\"rpm\": 2147483648}",
            "{\"tokens_per_day\": 9223372036854775808}",
            "{\"rpm\": true}",
            "{\"rpm\": [1]}",
            "{\"rpms\": 1}",
            "[]",
            "\"{}\"",
            "null",
            "",
            "{\"rpm\": 1")) {
      assertThatThrownBy(() -> StoredJson.limits(bad))
          .as(bad)
          .isInstanceOf(JsonProcessingException.class);
    }
  }

  @Test
  void stringListsReadBackAsWrittenAndNothingElseIsTaken() throws Exception {
    Random r = new Random(7);
    for (int i = 0; i < 500; i++) {
      List<String> list = new ArrayList<>();
      for (int j = r.nextInt(6); j > 0; j--) {
        StringBuilder s = new StringBuilder();
        for (int c = r.nextInt(12); c > 0; c--) {
          s.appendCodePoint(
              switch (r.nextInt(4)) {
                case 0 -> 'a' + r.nextInt(26);
                case 1 -> r.nextInt(0x20); // control characters, escaped
                case 2 -> '"';
                default -> 0x1F600 + r.nextInt(40); // outside the BMP
              });
        }
        list.add(s.toString());
      }
      String text = JSON.writeValueAsString(list);
      assertThat(StoredJson.strings(text)).as(text).isEqualTo(list);
    }
    assertThat(StoredJson.strings("[]")).isEmpty();
    for (String bad : List.of("[null]", "[1]", "[[\"a\"]]", "{}", "\"a\"", "null", "", "[\"a\"")) {
      assertThatThrownBy(() -> StoredJson.strings(bad))
          .as(bad)
          .isInstanceOf(JsonProcessingException.class);
    }
  }
}
