package dev.gatehouse.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The model file reader reads every weight as {@code Float.parseFloat} does, to the bit. */
class ModelReadTest {

  private static float decimal(String s) {
    byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
    return Model.decimal(b, 0, b.length);
  }

  @Test
  void readsPlainDecimalsAsParseFloatDoes() {
    SplittableRandom r = new SplittableRandom(12);
    int read = 0;
    for (int n = 0; n < 1_000_000; n++) {
      // the trainer's format (%.5f), and other plain decimals up to the reader's reach
      double x = (r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(0, 6));
      String s = String.format(Locale.ROOT, "%." + r.nextInt(0, 11) + "f", x);
      float fast = decimal(s);
      if (!Float.isNaN(fast)) {
        read++;
        assertThat(Float.floatToRawIntBits(fast))
            .as(s)
            .isEqualTo(Float.floatToRawIntBits(Float.parseFloat(s)));
      }
    }
    assertThat(read).isGreaterThan(300_000); // about half: the rest are handed back
    for (String s : new String[] {"0", "-0", "-0.00000", "16777215", "1677721.5", "0.0000000001"}) {
      assertThat(Float.floatToRawIntBits(decimal(s)))
          .as(s)
          .isEqualTo(Float.floatToRawIntBits(Float.parseFloat(s)));
    }
  }

  @Test
  void handsBackWhatItCannotReadExactly() {
    for (String s :
        new String[] {
          "",
          "-",
          ".5",
          "5.",
          "+1",
          "1e5",
          "NaN",
          "Infinity",
          "0x1p3",
          "1.2.3",
          " 1",
          "1 ",
          "16777216",
          "0.00000000001",
          "1f",
          "--1"
        }) {
      assertThat(decimal(s)).as(s).isNaN();
    }
  }

  @Test
  void theShippedModelReadsAsTheLineByLineReaderReadsIt() throws IOException {
    float[] expected = new float[Features.DIM];
    try (InputStream in = Model.class.getResourceAsStream(Model.RESOURCE);
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (int k = 0; k < 4; k++) {
        r.readLine(); // header, dim, bias, threshold
      }
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        int sp = line.indexOf(' ');
        expected[Integer.parseInt(line.substring(0, sp))] =
            Float.parseFloat(line.substring(sp + 1));
      }
    }
    Model m = Model.shipped();
    int nonZero = 0;
    for (int i = 0; i < expected.length; i++) {
      if (Float.floatToRawIntBits(m.weight(i)) != Float.floatToRawIntBits(expected[i])) {
        throw new AssertionError("weight " + i + ": " + m.weight(i) + " != " + expected[i]);
      }
      nonZero += expected[i] != 0 ? 1 : 0;
    }
    assertThat(nonZero).isGreaterThan(100_000);
  }

  private static Model read(String text) throws IOException {
    return Model.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
  }

  private static final String HEAD =
      "gatehouse-guard-model 1\ndim " + Features.DIM + "\nbias 0.5\nthreshold 0.600\n";

  @Test
  void readsOtherLineEndingsAndNumberFormsThroughTheStringWay() throws IOException {
    Model m =
        read(HEAD.replace("\n", "\r\n") + "1 0.25\r\n2 1e-2\r3 +0.5\n0004 -.5\n5 7.\n6 0.125 ");
    assertThat(m.weight(1)).isEqualTo(0.25f);
    assertThat(m.weight(2)).isEqualTo(0.01f);
    assertThat(m.weight(3)).isEqualTo(0.5f);
    assertThat(m.weight(4)).isEqualTo(-0.5f);
    assertThat(m.weight(5)).isEqualTo(7f);
    assertThat(m.weight(6)).isEqualTo(0.125f);
    assertThat(m.threshold()).isEqualTo(0.6);
  }

  @Test
  void refusesAMalformedFileWhole() {
    assertThatThrownBy(() -> read(HEAD + "1 0.5\n\n2 0.5\n"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("guard model line:  (expected: index weight)");
    assertThatThrownBy(() -> read(HEAD + "262144 0.5\n"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("guard model index: 262144 (expected: 0-262143)");
    assertThatThrownBy(() -> read(HEAD + "-1 0.5\n"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("guard model index: -1");
    assertThatThrownBy(() -> read(HEAD + "1 zero\n")).isInstanceOf(NumberFormatException.class);
    assertThatThrownBy(() -> read(HEAD + "é 0.5\n")).isInstanceOf(NumberFormatException.class);
    assertThatThrownBy(() -> read("gatehouse-guard-model 1\ndim 5\n"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("guard model dim: 5");
    assertThatThrownBy(() -> read("gatehouse-guard-model 1\ndim " + Features.DIM + "\n"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("expected a line bias VALUE, got null");
  }
}
