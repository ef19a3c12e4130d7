import NIOCore
import NIOHTTP1

/// HTTP/1.0 keeps a connection open only when both sides say `Connection: keep-alive`, and HTTPTypes, which the
/// rest of the server speaks, drops the version. Between the HTTP/1 codec and its HTTPTypes translation, this
/// handler answers a 1.0 client in kind: it echoes keep-alive to one that asked (ApacheBench, older proxies) and
/// closes after the response to one that did not, which would otherwise wait for a close that never comes.
final class HTTP10Connection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Per request not yet answered, in order: whether it was HTTP/1.0 and asked to keep the connection.
    private var requests = CircularBuffer<(isHTTP10: Bool, keepAlive: Bool)>()
    private var closeAfterResponse = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            requests.append((head.version.major == 1 && head.version.minor == 0, head.isKeepAlive))
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200:
            if let request = requests.popFirst(), request.isHTTP10 {
                let closing = head.headers["connection"].contains { $0.lowercased() == "close" }
                if request.keepAlive && !closing {
                    head.headers.replaceOrAdd(name: "connection", value: "keep-alive")
                } else {
                    head.headers.replaceOrAdd(name: "connection", value: "close")
                    closeAfterResponse = true
                }
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end where closeAfterResponse:
            closeAfterResponse = false
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
        default:
            context.write(data, promise: promise)
        }
    }
}
