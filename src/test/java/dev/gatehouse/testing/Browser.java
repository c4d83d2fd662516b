package dev.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Debian's headless {@code chromium} driven through its {@code chromedriver} by Selenium, as the
 * dashboard's browser tests use it, and the screenshots they take. {@code .ci/run} installs both
 * packages; nothing is downloaded at run time (Selenium Manager is never asked, since the driver
 * and the browser are named).
 */
public final class Browser {

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private Browser() {}

  /**
   * A fresh headless browser (1280x900, a new profile) that keeps its console log. The flags keep
   * Chromium from calling out to Google's services, which this machine's closed network refuses.
   */
  public static ChromeDriver start() throws IOException {
    assertThat(CHROMIUM)
        .as("Debian's chromium (apt-get install chromium chromium-driver; .ci/run does)")
        .isExecutable();
    assertThat(CHROMEDRIVER).as("Debian's chromium-driver").isExecutable();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--user-data-dir=" + Files.createTempDirectory("gh-chromium"));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriver driver =
        new ChromeDriver(
            new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build(),
            options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
    return driver;
  }

  /** The console messages so far that report a Content-Security-Policy refusal. */
  public static List<String> cspViolations(ChromeDriver driver) {
    List<String> out = new ArrayList<>();
    for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
      String m = e.getMessage();
      if (m.contains("Content Security Policy") || m.contains("Refused to")) {
        out.add(m);
      }
    }
    return out;
  }

  /**
   * The screenshots of one test: each goes to {@code target/dashboard-screenshots/}, and {@link
   * #publish} copies them to {@code docs/images/} when run with {@code
   * -Dgatehouse.screenshots.write=true} (they are committed from there).
   */
  public static final class Screenshots {
    private static final Path DIR = Path.of("target", "dashboard-screenshots");
    private final List<String> names = new ArrayList<>();

    /** Saves what the browser shows now as {@code dashboard-NAME.png}. */
    public void take(ChromeDriver driver, String name) throws IOException {
      Files.createDirectories(DIR);
      Path png = driver.getScreenshotAs(OutputType.FILE).toPath();
      Files.copy(png, DIR.resolve(file(name)), StandardCopyOption.REPLACE_EXISTING);
      names.add(name);
    }

    /** Copies every screenshot taken to docs/images, when asked to. */
    public void publish() throws IOException {
      if (!Boolean.getBoolean("gatehouse.screenshots.write")) {
        return;
      }
      Path docs = Path.of("docs", "images");
      Files.createDirectories(docs);
      for (String name : names) {
        Path to = docs.resolve(file(name));
        Files.copy(DIR.resolve(file(name)), to, StandardCopyOption.REPLACE_EXISTING);
      }
    }

    private static String file(String name) {
      return "dashboard-" + name + ".png";
    }
  }
}
