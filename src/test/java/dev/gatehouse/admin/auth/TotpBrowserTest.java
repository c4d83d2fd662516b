package dev.gatehouse.admin.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.admin.AdminFixture;
import dev.gatehouse.admin.Role;
import dev.gatehouse.testing.Browser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The second factor in the dashboard, in headless Chromium (the set-up of {@code
 * DashboardBrowserTest}) against a gateway under {@code profile: prod}: the admin's first login
 * lands on the Account page, enrols by the QR code's secret with a code computed here, gets the
 * recovery codes once, and signs in again with a computed code and then with a recovery code.
 */
class TotpBrowserTest {

  private static AdminFixture admin;
  private static ChromeDriver browser;
  private static final Browser.Screenshots SHOTS = new Browser.Screenshots();

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("totp-browser");
    var cert =
        dev.gatehouse.tls.SelfSigned.write(
            List.of("127.0.0.1"), Duration.ofDays(1), dir.resolve("c.pem"), dir.resolve("k.pem"));
    Map<String, String> prod = new HashMap<>();
    prod.put("profile", "prod");
    prod.put("tls.cert", cert.cert().toString());
    prod.put("tls.key", cert.key().toString());
    prod.put("probes.action", "ban");
    prod.put("cors.origins", "https://app.example");
    admin = AdminFixture.start(prod);
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
  void anAdminEnrolsFromTheDashboardAndSignsInWithACode() throws Exception {
    String token = admin.tokens.get(Role.ADMIN);
    browser.get(admin.base() + "/#/keys");
    waitFor(By.id("login-token")).sendKeys(token);
    browser.findElement(By.id("login-submit")).click();
    // profile prod: an admin without a second factor is taken to the Account page
    waitFor(By.cssSelector("#page[data-page='account']"));
    waitFor(By.id("account-required"));

    waitFor(By.id("totp-start")).click();
    WebElement qr = waitFor(By.id("totp-qr"));
    wait(Duration.ofSeconds(10))
        .until(
            d ->
                ((Number) browser.executeScript("return arguments[0].naturalWidth", qr)).intValue()
                    > 0);
    String secret = browser.findElement(By.id("totp-secret")).getText().strip();
    assertThat(TotpTest.base32Decode(secret)).hasSize(20);
    shoot("account-enrol");
    long step = Instant.now().getEpochSecond() / 30;
    browser.findElement(By.id("totp-confirm-code")).sendKeys(code(secret, step));
    browser.findElement(By.id("totp-confirm-submit")).click();
    waitFor(By.id("totp-recovery"));
    List<String> recovery = new ArrayList<>();
    browser
        .findElements(By.cssSelector("li[data-testid=recovery-code]"))
        .forEach(e -> recovery.add(e.getText().strip()));
    assertThat(recovery).hasSize(10).allMatch(c -> c.matches("[a-z2-7]{5}-[a-z2-7]{5}"));
    shoot("account-recovery");
    browser.findElement(By.id("totp-recovery-dismiss")).click();
    waitFor(By.cssSelector("#account-totp[data-enrolled='true']"));
    // this session proved the factor: the rest of the dashboard is open
    browser.get(admin.base() + "/#/keys");
    waitFor(By.cssSelector("#page[data-page='keys']"));
    waitFor(By.id("key-name"));

    // sign in again: the login asks for a code, and takes one computed here
    logOut();
    waitFor(By.id("login-token")).sendKeys(token);
    browser.findElement(By.id("login-submit")).click();
    waitFor(By.id("login-code-field"));
    shoot("login-code");
    browser.findElement(By.id("login-code")).sendKeys(code(secret, step + 1));
    browser.findElement(By.id("login-submit")).click();
    waitFor(By.cssSelector("#page[data-page='overview']"));
    browser.get(admin.base() + "/#/keys");
    waitFor(By.id("key-name"));

    // and with a recovery code, once
    logOut();
    waitFor(By.id("login-token")).sendKeys(token);
    browser.findElement(By.id("login-submit")).click();
    waitFor(By.id("login-code")).sendKeys(recovery.get(5));
    browser.findElement(By.id("login-submit")).click();
    waitFor(By.id("whoami"));
    browser.get(admin.base() + "/#/account");
    assertThat(waitFor(By.id("totp-recovery-left")).getText()).isEqualTo("9");

    List<String> problems = new ArrayList<>();
    for (LogEntry e : browser.manage().logs().get(LogType.BROWSER)) {
      String m = e.getMessage();
      if (m.contains("Content Security Policy") || m.contains("Refused to")) {
        problems.add(m);
      }
    }
    assertThat(problems).as("CSP violations in the browser console").isEmpty();
    SHOTS.publish();
  }

  private static String code(String secret, long step) throws Exception {
    return TotpTest.reference(TotpTest.base32Decode(secret), step * 30, 6);
  }

  private static void logOut() {
    waitFor(By.id("logout")).click();
    waitFor(By.id("login-token"));
  }

  private static WebElement waitFor(By by) {
    return wait(Duration.ofSeconds(15)).until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  private static WebDriverWait wait(Duration d) {
    return new WebDriverWait(browser, d);
  }

  private static void shoot(String name) throws IOException {
    SHOTS.take(browser, name);
  }
}
