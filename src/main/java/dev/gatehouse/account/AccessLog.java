package dev.gatehouse.account;

import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.FramingRefusal;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The account stage: one log line per finished request, refusals included. It carries the request
 * id shown to the client, and never key material or prompt text. Refusals and failures log at INFO;
 * successful requests at FINE (enable the {@code gatehouse.access} logger to see them).
 * Thread-safe.
 */
public final class AccessLog {

  private final Logger log = Logger.getLogger("gatehouse.access");

  /**
   * Records a request refused on its bytes before the pipeline saw it ({@link FramingRefusal}): by
   * the framing check, or by the decoder. At INFO, as every refusal.
   */
  public void recordRefused(FramingRefusal r, String ip) {
    if (!log.isLoggable(Level.INFO)) {
      return;
    }
    StringBuilder b = new StringBuilder(200);
    b.append("id=")
        .append(r.requestId())
        .append(" ip=")
        .append(ip)
        .append(" key=- method=")
        .append(r.method() == null ? "-" : r.method())
        .append(" path=")
        .append(r.path() == null ? "(malformed)" : r.path())
        .append(" op=- model=- status=")
        .append(r.status())
        .append(" decision=deny reason=")
        .append(r.problem().code)
        .append(" detail=\"")
        .append(r.why().replace('"', '\''))
        .append("\" in=")
        .append(r.bytesIn())
        .append(" out=")
        .append(r.bytesOut());
    log.info(b.toString());
  }

  public void record(Exchange x) {
    int status = x.response().getStatusCode();
    boolean refused = x.problem() != null;
    Level level = refused || status >= 500 || x.clientGone() ? Level.INFO : Level.FINE;
    if (!log.isLoggable(level)) {
      return;
    }
    long totalMicros = (System.nanoTime() - x.startNanos()) / 1000;
    StringBuilder b = new StringBuilder(200);
    b.append("id=")
        .append(x.requestId())
        .append(" ip=")
        .append(x.clientIp())
        .append(" key=")
        .append(x.principal() == null ? "-" : x.principal().keyId())
        .append(" method=")
        .append(x.request().method().name())
        .append(" path=")
        .append(x.target() == null ? "(malformed)" : x.target().path())
        .append(" op=")
        .append(x.route() == null ? "-" : x.route().operation().scope)
        .append(" model=")
        .append(x.model() == null ? "-" : x.model())
        .append(" status=")
        .append(status)
        .append(" decision=")
        .append(x.problem() == null ? "allow" : x.problem().status >= 500 ? "error" : "deny")
        .append(" reason=")
        .append(x.problem() != null ? x.problem().code : "ok");
    if (x.clientGone()) {
      b.append(" client_gone=true");
    }
    if (x.logReason() != null) {
      b.append(" detail=\"").append(x.logReason().replace('"', '\'')).append('"');
    }
    b.append(" in=")
        .append(x.bytesIn())
        .append(" out=")
        .append(x.bytesOut())
        .append(" ttfb_us=")
        .append(x.upstreamFirstByteNanos() / 1000)
        .append(" total_us=")
        .append(totalMicros);
    log.log(level, b.toString());
  }
}
