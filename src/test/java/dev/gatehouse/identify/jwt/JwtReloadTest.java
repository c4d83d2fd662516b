package dev.gatehouse.identify.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.testing.GatewayFixture;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * jwt.* applies on reload: off, a JWT is an invalid key like any other string; turned on by a
 * reload, the same token is served; turned off again, refused again.
 */
class JwtReloadTest {

  static final String CHAT =
      "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  static GatehouseConfig config(GatewayFixture gw, Map<String, String> extra) throws Exception {
    Map<String, String> flags = new LinkedHashMap<>();
    flags.put("listen", gw.config.listen().toString());
    flags.put("upstream", gw.upstream.url());
    flags.put("data_dir", gw.dataDir.toString());
    flags.put("server.event_loops", "2");
    flags.put("rate.anonymous_ip_rpm", "0");
    flags.put("rate.key_rpm", "0");
    flags.put("rate.ip_rpm", "0");
    flags.put("bans.never", "127.0.0.0/8,::1");
    flags.put("network.allowed_hosts", "*");
    flags.put("health.interval", "0s");
    flags.putAll(extra);
    return ConfigLoader.load(null, false, Map.of(), flags, ConfigChecks.ALL);
  }

  @Test
  void jwtTurnsOnAndOffOnReload() throws Exception {
    RSAKey rsa = Tokens.rsa("r1");
    String token = Tokens.sign(rsa, Tokens.claims("alice").build());
    try (JwksServer jwks = new JwksServer();
        GatewayFixture gw = GatewayFixture.start()) {
      jwks.serve(Tokens.keys(rsa));
      // off: a JWT is an unknown key
      assertThat(gw.post("/v1/chat/completions", token, CHAT).statusCode()).isEqualTo(401);
      gw.gateway().reload(config(gw, JwtGatewayTest.settings(jwks.url())));
      assertThat(gw.post("/v1/chat/completions", token, CHAT).statusCode()).isEqualTo(200);
      gw.gateway().reload(config(gw, Map.of()));
      assertThat(gw.post("/v1/chat/completions", token, CHAT).statusCode()).isEqualTo(401);
      assertThat(gw.upstream.requests()).hasSize(1);
    }
  }
}
