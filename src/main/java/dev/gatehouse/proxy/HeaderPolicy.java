package dev.gatehouse.proxy;

import io.netty.handler.codec.http.HttpHeaders;
import io.vertx.core.MultiMap;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * Which headers cross the gateway, each way. Both directions are allowlists.
 *
 * <p>Upstream, the client's credentials never travel on (the model server has no business seeing
 * Gatehouse keys), and neither do hop-by-hop or framing headers: Gatehouse frames its own request.
 * The {@code Host} is the upstream's own, which is also what Ollama's DNS-rebinding check expects.
 * Downstream, the model server's {@code Server} header, version banners and anything else not
 * listed are dropped, so a response tells a scanner nothing about what runs behind.
 */
public final class HeaderPolicy {

  private static final Set<String> TO_UPSTREAM =
      caseInsensitive(
          "content-type",
          "accept",
          "user-agent",
          "anthropic-version",
          "anthropic-beta",
          "openai-beta");

  private static final Set<String> TO_CLIENT =
      caseInsensitive(
          "content-type", "content-length", "cache-control", "retry-after", "x-accel-buffering");

  /** An immutable set that matches names in any case without allocating per lookup. */
  private static Set<String> caseInsensitive(String... names) {
    TreeSet<String> s = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    s.addAll(List.of(names));
    return Collections.unmodifiableSet(s);
  }

  private HeaderPolicy() {}

  public static void copyToUpstream(MultiMap from, MultiMap to) {
    copy(from, TO_UPSTREAM, to::add);
  }

  /** The same, into the headers of a relayed request ({@code UpstreamCall}). */
  public static void copyToUpstream(MultiMap from, HttpHeaders to) {
    copy(from, TO_UPSTREAM, to::add);
  }

  public static void copyToClient(Iterable<Map.Entry<String, String>> from, MultiMap to) {
    copy(from, TO_CLIENT, to::add);
  }

  /** Adds each field of {@code from} whose name is in {@code names}, in order. */
  private static void copy(
      Iterable<Map.Entry<String, String>> from, Set<String> names, BiConsumer<String, String> add) {
    for (Map.Entry<String, String> e : from) {
      if (names.contains(e.getKey())) {
        add.accept(e.getKey(), e.getValue());
      }
    }
  }
}
