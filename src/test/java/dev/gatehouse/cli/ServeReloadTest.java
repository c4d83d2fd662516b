package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code gatehouse serve} reloads its config on SIGHUP: a real signal, sent to this JVM (where the
 * in-process serve installed its handler), reloads the file it started with.
 */
class ServeReloadTest {

  @Test
  void sighupReloadsTheConfigFileServeStartedWith() throws Exception {
    // why: the reload trigger; the signal reaches the same Reloader the admin API calls
    Path home = Files.createTempDirectory("gh-sighup");
    Path file = home.resolve("gatehouse.yaml");
    Files.writeString(file, "rate:\n  key_rpm: 0\n");
    try (FakeUpstream up = new FakeUpstream()) {
      Map<String, String> env =
          Map.of("GATEHOUSE_HOME", home.toString(), "GATEHOUSE_ADMIN_LISTEN", "");
      CliRun serve =
          CliRun.run(
              env,
              "serve",
              "--config",
              file.toString(),
              "--listen",
              "127.0.0.1:0",
              "--upstream",
              up.url());
      try {
        assertThat(serve.code()).as(serve.err()).isEqualTo(ServeCommand.KEEP_RUNNING);
        Matcher km =
            Pattern.compile("\\n    (gk_[a-z2-7]{12}_[A-Za-z0-9]{40})\\n").matcher(serve.out());
        assertThat(km.find()).isTrue();
        Matcher pm =
            Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)").matcher(serve.out());
        assertThat(pm.find()).isTrue();
        HttpClient c = HttpClient.newHttpClient();
        HttpRequest tags =
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pm.group(1) + "/api/tags"))
                .header("Authorization", "Bearer " + km.group(1))
                .build();
        for (int i = 0; i < 3; i++) {
          assertThat(c.send(tags, HttpResponse.BodyHandlers.ofString()).statusCode())
              .isEqualTo(200);
        }

        Files.writeString(file, "rate:\n  key_rpm: 1\n  key_burst: 1\n");
        Process kill =
            new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid()))
                .inheritIO()
                .start();
        assertThat(kill.waitFor()).isZero();

        // the reload runs on a thread of its own; within seconds the new rate is in force
        long deadline = System.nanoTime() + 10_000_000_000L;
        int status = 200;
        while (status != 429 && System.nanoTime() < deadline) {
          status = c.send(tags, HttpResponse.BodyHandlers.ofString()).statusCode();
          if (status != 429) {
            Thread.sleep(50);
          }
        }
        assertThat(status).as("rate.key_rpm: 1 applies after SIGHUP").isEqualTo(429);
      } finally {
        for (AutoCloseable s : serve.servers()) {
          s.close();
        }
      }
    }
  }

  @Test
  void underNohupServeSaysThatSighupCannotReload() throws Exception {
    // why: nohup leaves SIGHUP ignored, and the JVM then installs no handler and says nothing; an
    // operator who counts on SIGHUP reloads must be told to use the admin API instead
    Path home = Files.createTempDirectory("gh-nohup");
    try (FakeUpstream up = new FakeUpstream();
        GatewayProcess gw =
            GatewayProcess.start(
                null,
                home,
                Map.of(
                    "GATEHOUSE_UPSTREAM", up.url(),
                    "GATEHOUSE_ADMIN_LISTEN", "",
                    "GATEHOUSE_HEALTH_INTERVAL", "0s"),
                List.of("nohup"))) {
      assertThat(gw.output()).anyMatch(l -> l.contains("SIGHUP is ignored in this process"));
      gw.sighup();
      Thread.sleep(300);
      assertThat(gw.isAlive()).as("an ignored SIGHUP neither reloads nor stops serve").isTrue();
    }
  }
}
