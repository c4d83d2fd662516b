package dev.gatehouse.listen;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Closes a connection that the connection handler refused (an untrusted PROXY header sender, a
 * banned peer, a connection over its cap) so that nothing it already sent is served.
 *
 * <p>{@link HttpConnection#close()} alone is not enough: it is a graceful shutdown, and the bytes
 * that arrived with the connection are decoded after the connection handler returns. A request
 * written in the same packet as a PROXY header is read only once the header's decoder leaves the
 * pipeline, so it would reach the request handler (judged by the address the header named) before
 * the shutdown ends. Here a handler in front of the HTTP codec (right after TLS, or after the PROXY
 * decoder) drops every byte still to be read, and the socket is closed at once.
 *
 * <p>Stateless: the one handler is shared by every refused connection.
 */
public final class Refusal {

  private static final ChannelHandler DROP = new Drop();
  private static final String NAME = "gatehouseRefused";

  private Refusal() {}

  /** Closes {@code conn} now; nothing it sent, or still sends, reaches the HTTP decoder. */
  public static void close(HttpConnection conn) {
    if (!(conn instanceof ConnectionBase base)) {
      conn.close();
      return;
    }
    Channel channel = base.channel();
    ChannelPipeline p = channel.pipeline();
    if (p.get(Drop.class) == null) {
      // Right after whatever still hands bytes on: TLS (what it has decrypted), else the PROXY
      // header's decoder (what came in the header's packet, handed on as it leaves the pipeline),
      // else the socket itself. Anything later (HTTP/1.x or HTTP/2) then sees nothing.
      ChannelHandlerContext source = p.context(SslHandler.class);
      if (source == null) {
        source = p.context(HAProxyMessageDecoder.class);
      }
      if (source != null) {
        p.addAfter(source.name(), NAME, DROP);
      } else {
        p.addFirst(NAME, DROP);
      }
    }
    channel.close();
  }

  /** Drops whatever is read: stateless, shared by every refused connection. */
  @ChannelHandler.Sharable
  private static final class Drop extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }
  }
}
