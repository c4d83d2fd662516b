package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Address and range parsing: strict literals only (never DNS), one canonical spelling. */
class AddressesTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    // why: the everyday forms stay as they are
    "127.0.0.1, 127.0.0.1",
    "203.0.113.9, 203.0.113.9",
    "::1, ::1",
    // why: Java reports IPv6 peers in full form; bans and rules must match the short one
    "0:0:0:0:0:0:0:1, ::1",
    // why: RFC 5952: lower case, no leading zeros, the longest zero run compressed
    "2001:DB8:0:0:0:0:2:1, 2001:db8::2:1",
    "2001:0db8:0000:0000:0001:0000:0000:0001, 2001:db8::1:0:0:1",
    // why: a single zero group is not compressed
    "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
    // why: a dual-stack socket reports IPv4 clients as IPv4-mapped IPv6; rules are written in IPv4
    "::ffff:192.0.2.1, 192.0.2.1",
    "::FFFF:c000:0201, 192.0.2.1",
    // why: a zone index names an interface, not a different client
    "fe80::1%eth0, fe80::1",
    // why: an embedded IPv4 tail in a non-mapped address stays IPv6
    "64:ff9b::192.0.2.1, 64:ff9b::c000:201",
  })
  void parsesAndCanonicalises(String in, String canonical) {
    assertThat(IpAddress.parse(in)).isNotNull().hasToString(canonical);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        // why: a host name must never be resolved from a header or a rule
        "localhost",
        "example.com",
        // why: leading zeros are octal to some parsers and decimal to others
        "010.0.0.1",
        "127.000.000.001",
        // why: shorthand IPv4 forms that inet_aton accepts and others do not
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "256.0.0.1",
        "1.2.3.4.5",
        "1.2.3.",
        "",
        "1::2::3",
        "12345::",
        ":1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9",
        "::ffff:1.2.3",
        "g::1",
      })
  void refusesAnythingButStrictLiterals(String in) {
    assertThat(IpAddress.parse(in)).isNull();
  }

  @Test
  void loopbackIsAllOf127And1() {
    assertThat(IpAddress.parse("127.0.0.2").isLoopback()).isTrue();
    assertThat(IpAddress.parse("::1").isLoopback()).isTrue();
    assertThat(IpAddress.parse("::2").isLoopback()).isFalse();
    assertThat(IpAddress.parse("128.0.0.1").isLoopback()).isFalse();
  }

  @ParameterizedTest(name = "{0} contains {1}: {2}")
  @CsvSource({
    "10.0.0.0/8, 10.255.1.2, true",
    "10.0.0.0/8, 11.0.0.1, false",
    // why: host bits are ignored, so 10.1.2.3/8 means 10.0.0.0/8
    "10.1.2.3/8, 10.9.9.9, true",
    "192.168.1.0/24, 192.168.1.255, true",
    "192.168.1.0/24, 192.168.2.0, false",
    // why: a prefix not on a byte boundary
    "172.16.0.0/12, 172.31.255.255, true",
    "172.16.0.0/12, 172.32.0.0, false",
    "203.0.113.9, 203.0.113.9, true",
    "203.0.113.9, 203.0.113.10, false",
    "0.0.0.0/0, 8.8.8.8, true",
    "2001:db8::/32, 2001:db8:ffff::1, true",
    "2001:db8::/32, 2001:db9::1, false",
    "2001:db8:0:100::/56, 2001:db8:0:1ff::1, true",
    "2001:db8:0:100::/56, 2001:db8:0:200::1, false",
    "::/0, ::1, true",
    // why: families never mix: an IPv6 catch-all does not admit IPv4 clients, nor the reverse
    "::/0, 127.0.0.1, false",
    "0.0.0.0/0, ::1, false",
    // why: an IPv4-mapped range written in IPv6 is the IPv4 range
    "::ffff:10.0.0.0/104, 10.2.3.4, true",
  })
  void rangesContainWhatTheyShould(String cidr, String addr, boolean expected) {
    assertThat(Cidr.parse(cidr).contains(IpAddress.parse(addr))).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.0.0.0/33",
        "::/129",
        "10.0.0.0/",
        "10.0.0.0/-1",
        "10.0.0.0/a",
        "host/24",
        "fe80::1%eth0/64",
        "::ffff:10.0.0.0/64"
      })
  void refusesMalformedRanges(String in) {
    assertThat(Cidr.parse(in)).isNull();
  }

  @Test
  void setsMatchSinglesAndRanges() {
    AddressSet set = AddressSet.parse(List.of("203.0.113.9", "10.0.0.0/8", "2001:db8::/48", "::1"));
    assertThat(set.contains(IpAddress.parse("203.0.113.9"))).isTrue();
    assertThat(set.contains(IpAddress.parse("10.1.1.1"))).isTrue();
    assertThat(set.contains(IpAddress.parse("2001:db8:0:5::1"))).isTrue();
    assertThat(set.contains(IpAddress.parse("0:0:0:0:0:0:0:1"))).isTrue();
    assertThat(set.contains(IpAddress.parse("203.0.113.8"))).isFalse();
    assertThat(set.contains(null)).isFalse();
    assertThat(Cidr.parse("10.1.2.3/8")).hasToString("10.0.0.0/8");
  }
}
