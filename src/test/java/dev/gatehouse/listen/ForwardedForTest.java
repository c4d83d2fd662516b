package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.AddressSet;
import dev.gatehouse.config.IpAddress;
import io.vertx.core.MultiMap;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Client addresses behind trusted proxies: which hop of a forwarding header is believed. */
class ForwardedForTest {

  static final AddressSet TRUSTED = AddressSet.parse(List.of("10.0.0.0/8", "fd00::/8"));

  static String resolve(String peer, String header, String value) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    if (header != null) {
      for (String line : value.split("\\^")) {
        h.add(header, line); // one header line per ^, as repeated header lines arrive
      }
    }
    return ForwardedFor.resolve(IpAddress.parse(peer), h, TRUSTED).text();
  }

  @ParameterizedTest(name = "{0} {1}: {2} -> {3}")
  @CsvSource(
      delimiter = '|',
      value = {
        // why: an untrusted peer's headers are never read
        "203.0.113.1 | X-Forwarded-For | 198.51.100.7 | 203.0.113.1",
        "203.0.113.1 | Forwarded | for=198.51.100.7 | 203.0.113.1",
        // why: a trusted proxy names the client
        "10.0.0.1 | X-Forwarded-For | 198.51.100.7 | 198.51.100.7",
        // why: the client's own entries (leftmost) are not believed past the first untrusted hop
        "10.0.0.1 | X-Forwarded-For | 1.2.3.4, 198.51.100.7 | 198.51.100.7",
        // why: a chain of trusted proxies is skipped from the right
        "10.0.0.1 | X-Forwarded-For | 198.51.100.7, 10.0.0.2, 10.0.0.3 | 198.51.100.7",
        // why: repeated header lines form one list, in order
        "10.0.0.1 | X-Forwarded-For | 1.2.3.4^198.51.100.7 | 198.51.100.7",
        // why: ports and brackets as proxies write them
        "10.0.0.1 | X-Forwarded-For | 198.51.100.7:4711 | 198.51.100.7",
        "10.0.0.1 | X-Forwarded-For | [2001:db8::7]:4711 | 2001:db8::7",
        "10.0.0.1 | X-Forwarded-For | 2001:DB8:0::7 | 2001:db8::7",
        // why: RFC 7239, quoted IPv6 with a port, other parameters, several elements
        "10.0.0.1 | Forwarded | for=\"[2001:db8::7]:4711\";proto=https;by=10.0.0.1 | 2001:db8::7",
        "10.0.0.1 | Forwarded | for=1.2.3.4, for=198.51.100.7 | 198.51.100.7",
        "10.0.0.1 | Forwarded | proto=https;for=198.51.100.7 | 198.51.100.7",
        // why: an unknown or obfuscated hop stops the walk at the nearest trusted proxy
        "10.0.0.1 | Forwarded | for=unknown | 10.0.0.1",
        "10.0.0.1 | Forwarded | for=198.51.100.7, for=_hidden | 10.0.0.1",
        "10.0.0.1 | X-Forwarded-For | 198.51.100.7, 10.0.0.2, garbage | 10.0.0.1",
        "10.0.0.1 | X-Forwarded-For | 198.51.100.7, garbage, 10.0.0.2 | 10.0.0.2",
        // why: a host name is never resolved
        "10.0.0.1 | X-Forwarded-For | evil.example | 10.0.0.1",
        // why: all trusted: the leftmost is as far as we can see
        "10.0.0.1 | X-Forwarded-For | 10.0.0.5, 10.0.0.6 | 10.0.0.5",
        // why: a trusted proxy without a header is itself the client
        "fd00::1 |  |  | fd00::1",
      })
  void resolvesTheClient(String peer, String header, String value, String client) {
    assertThat(
            resolve(
                peer,
                header == null || header.isBlank() ? null : header.trim(),
                value == null ? "" : value.trim()))
        .isEqualTo(client);
  }

  @Test
  void forwardedWinsOverXForwardedFor() {
    MultiMap h =
        MultiMap.caseInsensitiveMultiMap()
            .add("X-Forwarded-For", "1.1.1.1")
            .add("Forwarded", "for=2.2.2.2");
    assertThat(ForwardedFor.resolve(IpAddress.parse("10.0.0.1"), h, TRUSTED).text())
        .isEqualTo("2.2.2.2");
  }
}
