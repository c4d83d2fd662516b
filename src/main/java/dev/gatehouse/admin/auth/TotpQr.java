package dev.gatehouse.admin.auth;

import com.google.zxing.BarcodeFormat;
import com.google.zxing.EncodeHintType;
import com.google.zxing.WriterException;
import com.google.zxing.common.BitMatrix;
import com.google.zxing.qrcode.QRCodeWriter;
import com.google.zxing.qrcode.decoder.ErrorCorrectionLevel;
import java.util.Map;

/**
 * A QR code as an SVG document: ZXing core computes the modules, this class writes them as one
 * {@code <path>} (a square per dark module), with a 4-module quiet zone and no script or style, so
 * the dashboard can show it as an image under its strict Content-Security-Policy.
 */
final class TotpQr {

  private static final int QUIET_ZONE = 4;

  private TotpQr() {}

  /** The QR code of {@code text} (error correction M), as an SVG document. */
  static String svg(String text) {
    BitMatrix m;
    try {
      m =
          new QRCodeWriter()
              .encode(
                  text,
                  BarcodeFormat.QR_CODE,
                  0,
                  0,
                  Map.of(
                      EncodeHintType.ERROR_CORRECTION,
                      ErrorCorrectionLevel.M,
                      EncodeHintType.MARGIN,
                      0,
                      EncodeHintType.CHARACTER_SET,
                      "UTF-8"));
    } catch (WriterException e) {
      throw new IllegalArgumentException("cannot make a QR code of this text", e);
    }
    int size = m.getWidth() + 2 * QUIET_ZONE;
    StringBuilder d = new StringBuilder();
    for (int y = 0; y < m.getHeight(); y++) {
      for (int x = 0; x < m.getWidth(); x++) {
        if (m.get(x, y)) {
          d.append('M')
              .append(x + QUIET_ZONE)
              .append(' ')
              .append(y + QUIET_ZONE)
              .append("h1v1h-1z");
        }
      }
    }
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
        + size
        + " "
        + size
        + "\" width=\""
        + size * 6
        + "\" height=\""
        + size * 6
        + "\" shape-rendering=\"crispEdges\"><rect width=\""
        + size
        + "\" height=\""
        + size
        + "\" fill=\"#fff\"/><path fill=\"#000\" d=\""
        + d
        + "\"/></svg>";
  }
}
