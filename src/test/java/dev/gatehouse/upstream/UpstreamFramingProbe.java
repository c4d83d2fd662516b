package dev.gatehouse.upstream;

import io.netty.channel.Channel;

/**
 * Test access to {@link UpstreamFraming#install(Channel)} for the fuzz target in another package.
 */
public final class UpstreamFramingProbe {
  private UpstreamFramingProbe() {}

  public static boolean install(Channel channel) {
    return UpstreamFraming.install(channel);
  }
}
