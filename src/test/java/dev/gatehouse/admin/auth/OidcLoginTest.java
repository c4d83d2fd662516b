package dev.gatehouse.admin.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.admin.AdminFixture;
import dev.gatehouse.testing.Browser;
import java.io.IOException;
import java.net.CookieHandler;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard's single sign-on end to end against a real OpenID provider: Keycloak's server
 * distribution ({@link KeycloakServer}) with the test realm (a public client with PKCE S256, a
 * {@code groups} claim in the ID token; {@code olivia} in {@code gatehouse-operators}, mapped to
 * operator, and {@code uma} in {@code staff}, mapped to nothing). In headless Chromium: the Sign in
 * with SSO button, Keycloak's own login form, and the dashboard signed in as operator; the unmapped
 * user refused. Over HTTP: a forged, a replayed and a foreign state refused.
 */
class OidcLoginTest {

  private static KeycloakServer keycloak;
  private static AdminFixture admin;
  private static ChromeDriver browser;
  private static final List<String> LOG = new ArrayList<>();
  private static final Handler CAPTURE =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          synchronized (LOG) {
            LOG.add(r.getMessage());
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeAll
  static void start() throws Exception {
    int kcPort = KeycloakServer.freePort();
    admin =
        AdminFixture.start(
            Map.of(
                "admin.oidc.issuer", "http://127.0.0.1:" + kcPort + "/realms/gatehouse",
                "admin.oidc.client_id", "gatehouse-dashboard",
                "admin.oidc.roles_claim", "groups",
                "admin.oidc.roles", "gatehouse-operators=operator,gatehouse-admins=admin"));
    Logger.getLogger("gatehouse.admin").addHandler(CAPTURE);
    keycloak = KeycloakServer.start(kcPort, admin.port());
    System.out.println("Keycloak answered after " + keycloak.startedIn.toSeconds() + " s");
    browser = Browser.start();
  }

  @AfterAll
  static void stop() {
    Logger.getLogger("gatehouse.admin").removeHandler(CAPTURE);
    if (browser != null) {
      browser.quit();
    }
    if (keycloak != null) {
      keycloak.close();
    }
    if (admin != null) {
      admin.close();
    }
  }

  @Test
  void anOperatorSignsInThroughKeycloakAndAnUnmappedUserIsRefused() {
    // the mapped user: the SSO button, Keycloak's form, back on the dashboard as operator
    signInWithSso("olivia", "olivia-pass-1");
    WebElement who =
        wait(Duration.ofSeconds(30))
            .until(ExpectedConditions.visibilityOfElementLocated(By.id("whoami")));
    wait(Duration.ofSeconds(10)).until(d -> "operator".equals(who.getAttribute("data-role")));
    assertThat(who.getText()).contains("olivia");
    assertThat(browser.getCurrentUrl()).startsWith(admin.base() + "/");
    // the session is the mapped role's, no more: keys yes, admin credentials no
    assertThat(status("/api/v1/keys")).isEqualTo(200);
    assertThat(status("/api/v1/admins")).isEqualTo(403);
    assertThat(fetchText("/api/v1/me"))
        .contains("\"id\":\"oidc:")
        .contains("\"role\":\"operator\"");

    // a clean browser (no dashboard session, no Keycloak session), then the unmapped user
    browser.executeCdpCommand("Network.clearBrowserCookies", Map.of());
    signInWithSso("uma", "uma-pass-1");
    wait(Duration.ofSeconds(30)).until(d -> d.getPageSource().contains("admin.oidc_no_role"));
    assertThat(browser.getCurrentUrl()).startsWith(admin.base() + OidcRoutes.CALLBACK);
    browser.get(admin.base() + "/");
    wait(Duration.ofSeconds(20))
        .until(ExpectedConditions.visibilityOfElementLocated(By.id("login-token")));
    assertThat(status("/api/v1/me")).isEqualTo(401);

    // nothing the provider handed out ever reached the log
    synchronized (LOG) {
      assertThat(LOG).anyMatch(l -> l.contains("single sign-on: oidc:") && l.contains("operator"));
      assertThat(LOG).anyMatch(l -> l.contains("single sign-on refused for oidc:"));
      assertThat(LOG).noneMatch(l -> l.contains("eyJ") || l.contains("code="));
    }
  }

  @Test
  void aForgedReplayedOrForeignStateIsRefused() throws Exception {
    HttpClient alice = client();
    // a state nobody issued
    HttpResponse<String> forged =
        get(alice, admin.base() + OidcRoutes.CALLBACK + "?state=forged&code=whatever");
    assertThat(forged.statusCode()).isEqualTo(401);
    assertThat(forged.body()).contains("admin.oidc_refused");

    // a real login over HTTP; its redirect back works once, then never again
    String callback = loginAtKeycloak(alice, "olivia", "olivia-pass-1");
    HttpResponse<String> first = get(alice, callback);
    assertThat(first.statusCode()).isEqualTo(302);
    assertThat(first.headers().firstValue("Location")).hasValue("/");
    assertThat(first.headers().allValues("Set-Cookie"))
        .anyMatch(c -> c.startsWith("gatehouse_session=") && c.contains("SameSite=Strict"));
    assertThat(get(alice, admin.base() + "/api/v1/me").body()).contains("\"role\":\"operator\"");
    HttpResponse<String> replayed = get(alice, callback);
    assertThat(replayed.statusCode()).isEqualTo(401);
    assertThat(replayed.body()).contains("admin.oidc_refused");

    // a login started in one browser and finished in another (no binding cookie): refused, and the
    // state is spent, so the first browser cannot use it either
    HttpClient bob = client();
    String stolen = loginAtKeycloak(bob, "olivia", "olivia-pass-1");
    HttpResponse<String> foreign =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(stolen)).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(foreign.statusCode()).isEqualTo(401);
    assertThat(get(bob, stolen).statusCode()).isEqualTo(401);

    // a right state with a code the provider never issued: the exchange fails, no session
    HttpClient carol = client();
    String real = loginAtKeycloak(carol, "olivia", "olivia-pass-1");
    HttpResponse<String> badCode = get(carol, real.replaceAll("([?&]code=)[^&]+", "$1bogus"));
    assertThat(badCode.statusCode()).isEqualTo(401);
    assertThat(badCode.headers().allValues("Set-Cookie"))
        .noneMatch(c -> c.startsWith("gatehouse_session="));
    assertThat(get(carol, admin.base() + "/api/v1/me").statusCode()).isEqualTo(401);
  }

  @Test
  void theLoginGoesToTheProviderWithPkceAndABindingCookie() throws Exception {
    HttpResponse<String> r = get(client(), admin.base() + OidcRoutes.LOGIN);
    assertThat(r.statusCode()).isEqualTo(302);
    String location = r.headers().firstValue("Location").orElseThrow();
    assertThat(location)
        .startsWith(keycloak.issuer() + "/protocol/openid-connect/auth?")
        .contains("response_type=code")
        .contains("client_id=gatehouse-dashboard")
        .contains("code_challenge_method=S256")
        .containsPattern("code_challenge=[A-Za-z0-9_-]{43}(&|$)")
        .containsPattern("state=[A-Za-z0-9_-]{43}")
        .containsPattern("nonce=[A-Za-z0-9_-]{43}")
        .contains(
            "redirect_uri="
                + URLEncoder.encode(admin.base() + OidcRoutes.CALLBACK, StandardCharsets.UTF_8));
    assertThat(r.headers().firstValue("Set-Cookie").orElseThrow())
        .startsWith("gatehouse_oidc=")
        .contains("Path=/api/v1/oidc/callback")
        .contains("HttpOnly")
        .contains("SameSite=Lax");
    assertThat(get(client(), admin.base() + OidcRoutes.INFO).body())
        .isEqualTo("{\"enabled\":true}");

    // only the provider's way back is exempt from the cross-site check, and only for GET
    HttpClient c = client();
    HttpResponse<String> crossLogin =
        c.send(
            HttpRequest.newBuilder(URI.create(admin.base() + OidcRoutes.LOGIN))
                .header("Sec-Fetch-Site", "cross-site")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(crossLogin.statusCode()).isEqualTo(403);
    assertThat(crossLogin.body()).contains("admin.origin_denied");
    HttpResponse<String> crossBack =
        c.send(
            HttpRequest.newBuilder(
                    URI.create(admin.base() + OidcRoutes.CALLBACK + "?state=x&code=y"))
                .header("Sec-Fetch-Site", "cross-site")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(crossBack.body()).contains("admin.oidc_refused");
    HttpResponse<String> post =
        c.send(
            HttpRequest.newBuilder(URI.create(admin.base() + OidcRoutes.CALLBACK))
                .header("Origin", "http://evil.example")
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(403);
  }

  // --- the browser

  private void signInWithSso(String user, String password) {
    browser.get(admin.base() + "/");
    WebElement sso =
        wait(Duration.ofSeconds(20))
            .until(ExpectedConditions.elementToBeClickable(By.id("login-sso-link")));
    sso.click();
    wait(Duration.ofSeconds(30))
        .until(ExpectedConditions.visibilityOfElementLocated(By.id("username")))
        .sendKeys(user);
    browser.findElement(By.id("password")).sendKeys(password);
    browser.findElement(By.id("kc-login")).click();
  }

  private long status(String path) {
    Object s =
        browser.executeAsyncScript(
            "const done = arguments[arguments.length - 1];"
                + "fetch(arguments[0]).then(r => done(r.status), e => done(-1));",
            path);
    return ((Number) s).longValue();
  }

  private String fetchText(String path) {
    return String.valueOf(
        browser.executeAsyncScript(
            "const done = arguments[arguments.length - 1];"
                + "fetch(arguments[0]).then(r => r.text()).then(done, e => done(String(e)));",
            path));
  }

  private static WebDriverWait wait(Duration d) {
    return new WebDriverWait(browser, d);
  }

  // --- a browser made of an HTTP client with a cookie jar

  private static HttpClient client() {
    return HttpClient.newBuilder()
        .cookieHandler(new LoopbackCookies())
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  /**
   * A cookie jar that keeps {@code Secure} cookies over http to 127.0.0.1, as browsers do (a
   * loopback origin is a secure context); Keycloak marks its login cookies Secure.
   */
  private static final class LoopbackCookies extends CookieHandler {
    private final CookieManager jar = new CookieManager(null, CookiePolicy.ACCEPT_ALL);

    @Override
    public Map<String, List<String>> get(URI uri, Map<String, List<String>> headers)
        throws IOException {
      return jar.get(uri, headers);
    }

    @Override
    public void put(URI uri, Map<String, List<String>> headers) throws IOException {
      Map<String, List<String>> plain = new HashMap<>();
      headers.forEach(
          (name, values) ->
              plain.put(
                  name,
                  name != null && name.equalsIgnoreCase("Set-Cookie")
                      ? values.stream().map(v -> v.replaceAll("(?i);\\s*Secure", "")).toList()
                      : values));
      jar.put(uri, plain);
    }
  }

  private static HttpResponse<String> get(HttpClient c, String url) throws Exception {
    return c.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static final Pattern FORM_ACTION =
      Pattern.compile(
          "<form[^>]*id=\"kc-form-login\"[^>]*action=\"([^\"]+)\"|<form[^>]*action=\"([^\"]+)\"[^>]*id=\"kc-form-login\"");

  /**
   * Starts a login at the admin listener and signs in at Keycloak's form; returns the URL Keycloak
   * sends the browser back to (the callback with code and state), not yet followed.
   */
  private static String loginAtKeycloak(HttpClient c, String user, String password)
      throws Exception {
    HttpResponse<String> start = get(c, admin.base() + OidcRoutes.LOGIN);
    assertThat(start.statusCode()).isEqualTo(302);
    HttpResponse<String> page = get(c, start.headers().firstValue("Location").orElseThrow());
    assertThat(page.statusCode()).isEqualTo(200);
    Matcher m = FORM_ACTION.matcher(page.body());
    assertThat(m.find()).as("Keycloak's login form").isTrue();
    String action = (m.group(1) != null ? m.group(1) : m.group(2)).replace("&amp;", "&");
    String form =
        "username="
            + URLEncoder.encode(user, StandardCharsets.UTF_8)
            + "&password="
            + URLEncoder.encode(password, StandardCharsets.UTF_8)
            + "&credentialId=";
    HttpResponse<String> posted =
        c.send(
            HttpRequest.newBuilder(URI.create(action))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(posted.statusCode())
        .as(
            "Keycloak accepts the password; it answered: %s",
            posted.body().replaceAll("\\s+", " ").replaceAll(".*<title>|</title>.*", ""))
        .isEqualTo(302);
    String back = posted.headers().firstValue("Location").orElseThrow();
    assertThat(back).startsWith(admin.base() + OidcRoutes.CALLBACK + "?");
    return back;
  }
}
