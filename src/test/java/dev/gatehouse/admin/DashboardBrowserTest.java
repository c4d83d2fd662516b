package dev.gatehouse.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.Browser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard end to end, as an operator meets it: Debian's headless {@code chromium} driven
 * through {@code chromedriver} and Selenium, against a real gateway and its admin listener. It logs
 * in, creates a key and uses it with curl, sees the request on the overview and in usage, revokes
 * the key and sees the next request refused, bans and unbans an address, and follows a refusal to
 * its audit record. Each page's screenshot goes to {@code target/dashboard-screenshots/}, and to
 * {@code docs/images/} when run with {@code -Dgatehouse.screenshots.write=true}.
 */
class DashboardBrowserTest {

  /** An address of the loopback network other than 127.0.0.1, for the ban. */
  private static final String BANNED = "127.0.0.2";

  private static AdminFixture admin;
  private static ChromeDriver browser;
  private static final Browser.Screenshots SHOTS = new Browser.Screenshots();

  @BeforeAll
  static void start() throws Exception {
    admin = AdminFixture.start(Map.of("bans.never", "", "bans.refusal", "403"));
    browser = Browser.start();
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (admin != null) {
      admin.close();
    }
  }

  @Test
  void anOperatorRunsTheGatewayFromTheDashboard() throws Exception {
    // log in with the admin token
    browser.get(admin.base() + "/");
    waitFor(By.id("login-token")).sendKeys(admin.tokens.get(Role.ADMIN));
    browser.findElement(By.id("login-submit")).click();
    waitForPage("overview");
    assertThat(waitFor(By.id("whoami")).getAttribute("data-role")).isEqualTo("admin");
    waitFor(By.id("overview-empty"));
    shoot("overview-empty");

    // create a key; its secret is shown once, with a ready curl
    go("keys");
    waitFor(By.id("key-name")).sendKeys("browser");
    browser.findElement(By.id("key-create-submit")).click();
    String secret = waitFor(By.id("key-secret")).getText().strip();
    assertThat(secret).matches("gk_[a-z2-7]{12}_[A-Za-z0-9]{40}");
    assertThat(browser.findElement(By.id("key-curl")).getText()).contains(secret);
    String keyId = secret.substring(3, 15);
    shoot("keys-created");

    // use it with curl, from the command line: a model list, and a chat that counts tokens
    assertThat(curl("127.0.0.1", secret, "/api/tags")).isEqualTo(200);
    assertThat(
            curl(
                "127.0.0.1",
                secret,
                "/api/chat",
                "{\"model\":\"llama3\",\"stream\":false,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"))
        .isEqualTo(200);

    // the request appears on the overview (top keys) and in usage
    go("overview");
    waitFor(By.cssSelector("tr[data-testid=top-key][data-key-id='" + keyId + "']"));
    shoot("overview");
    go("usage");
    wait(Duration.ofSeconds(20))
        .until(
            d -> {
              // usage is flushed to the store once a second: reload the page until it shows
              List<WebElement> rows = d.findElements(By.cssSelector("tr[data-testid=usage-row]"));
              if (rows.stream().anyMatch(r -> r.getText().contains(keyId))) {
                return true;
              }
              d.navigate().refresh();
              return false;
            });
    shoot("usage");

    // revoke it, and the next request is refused
    go("keys");
    WebElement row =
        waitFor(By.cssSelector("tr[data-testid=key-row][data-key-id='" + keyId + "']"));
    row.findElement(By.cssSelector("button[data-testid=key-revoke]")).click();
    waitFor(By.id("confirm-yes")).click();
    waitFor(
        By.cssSelector(
            "tr[data-testid=key-row][data-key-id='" + keyId + "'][data-status=revoked]"));
    shoot("keys");
    waitUntil(() -> curl("127.0.0.1", secret, "/api/tags") == 401, "the revoked key refused");

    // ban an address by hand: the public listener refuses it; unban: it is served again
    String fresh = admin.gw.newKey();
    assertThat(curl(BANNED, fresh, "/api/tags")).isEqualTo(200);
    go("bans");
    waitFor(By.id("ban-ip")).sendKeys(BANNED);
    browser.findElement(By.id("ban-reason")).sendKeys("seen in the browser test");
    browser.findElement(By.id("ban-submit")).click();
    waitFor(By.cssSelector("tr[data-testid=ban-row][data-ip='" + BANNED + "']"));
    shoot("bans");
    waitUntil(() -> curl(BANNED, fresh, "/api/tags") == 403, "the banned address refused");
    assertThat(curl("127.0.0.1", fresh, "/api/tags")).isEqualTo(200);
    browser
        .findElement(
            By.cssSelector(
                "tr[data-testid=ban-row][data-ip='" + BANNED + "'] button[data-testid=ban-remove]"))
        .click();
    confirmIfAsked();
    wait(Duration.ofSeconds(10))
        .until(
            ExpectedConditions.numberOfElementsToBe(
                By.cssSelector("tr[data-testid=ban-row][data-ip='" + BANNED + "']"), 0));
    waitUntil(() -> curl(BANNED, fresh, "/api/tags") == 200, "the unbanned address served");

    // follow a refusal (the revoked key's 401) to its audit record
    go("audit");
    WebElement refused =
        wait(Duration.ofSeconds(20))
            .until(
                d -> {
                  for (WebElement r :
                      d.findElements(By.cssSelector("tr[data-testid=audit-row][data-refused]"))) {
                    if (!"false".equals(r.getAttribute("data-refused"))
                        && r.getText().contains("401")) {
                      return r;
                    }
                  }
                  d.navigate().refresh(); // the audit copy in the store trails the file
                  return null;
                });
    String seq = refused.getAttribute("data-seq");
    shoot("audit");
    refused.findElement(By.cssSelector("a[data-testid=audit-link]")).click();
    WebElement record = waitFor(By.id("audit-record"));
    assertThat(record.getAttribute("data-seq")).isEqualTo(seq);
    assertThat(browser.findElement(By.id("audit-record-json")).getText())
        .contains("401")
        .doesNotContain(secret);
    shoot("audit-record");

    // alerts and doctor findings, each with its fix
    go("alerts");
    wait(Duration.ofSeconds(10))
        .until(
            d ->
                !d.findElements(By.id("alerts-empty")).isEmpty()
                    || !d.findElements(By.cssSelector("tr[data-testid=alert-row]")).isEmpty());
    shoot("alerts");
    go("doctor");
    waitFor(By.id("doctor-run")).click();
    wait(Duration.ofSeconds(60))
        .until(
            d ->
                !d.findElements(By.cssSelector("li[data-testid=finding] .finding-fix")).isEmpty()
                    || !d.findElements(By.id("doctor-empty")).isEmpty());
    shoot("doctor");

    // readable on a phone
    browser.manage().window().setSize(new Dimension(390, 844));
    go("overview");
    waitFor(By.id("nav-toggle"));
    shoot("overview-phone");
    browser.manage().window().setSize(new Dimension(1280, 900));

    // nothing the page did broke its Content-Security-Policy or failed to load
    List<String> problems = Browser.cspViolations(browser);
    assertThat(problems).as("CSP violations in the browser console").isEmpty();
    SHOTS.publish();
  }

  private static void go(String page) {
    browser.get(admin.base() + "/#/" + page);
    waitForPage(page);
  }

  private static void waitForPage(String page) {
    waitFor(By.cssSelector("#page[data-page='" + page + "']"));
  }

  private static WebElement waitFor(By by) {
    return wait(Duration.ofSeconds(15)).until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  private static WebDriverWait wait(Duration d) {
    return new WebDriverWait(browser, d);
  }

  /** Clicks the inline confirmation when the page asks for one. */
  private static void confirmIfAsked() {
    List<WebElement> yes = browser.findElements(By.id("confirm-yes"));
    if (!yes.isEmpty() && yes.get(0).isDisplayed()) {
      yes.get(0).click();
    }
  }

  /** Polls {@code check} for up to 10 s: store changes reach the gateway pushed, not at once. */
  private static void waitUntil(Check check, String what) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!check.ok()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(100);
    }
  }

  private interface Check {
    boolean ok() throws Exception;
  }

  /** The status of {@code curl} (the real command) to the public listener, from {@code fromIp}. */
  private static int curl(String fromIp, String key, String path)
      throws IOException, InterruptedException {
    return curl(fromIp, key, path, null);
  }

  /** As {@link #curl(String, String, String)}, POSTing {@code json} when it is not null. */
  private static int curl(String fromIp, String key, String path, String json)
      throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--interface",
                fromIp,
                "-H",
                "Authorization: Bearer " + key));
    if (json != null) {
      cmd.addAll(List.of("-H", "Content-Type: application/json", "--data-binary", json));
    }
    cmd.add(admin.gw.baseUrl() + path);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    return Integer.parseInt(out);
  }

  private static void shoot(String name) throws IOException {
    SHOTS.take(browser, name);
  }
}
