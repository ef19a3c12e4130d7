import NIOCore
import S3Wire

/// Watches a connection at the byte level, first in its pipeline after TLS: enforces the ``ConnectionPolicy``
/// timeouts, refuses connections over the limit, and performs the lingering close.
///
/// The request phase comes from ``RequestPhaseTracker``, which sits after the HTTP decoder; both run on the
/// channel's event loop, so they share state without locks.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase {
        /// Between requests: idle until a byte of the next head arrives, then the head must complete.
        case awaitingHead
        /// A head was read and its body (possibly empty) is being read.
        case readingBody
        /// The request was read; the response is being produced or sent.
        case responding
        /// The response was sent and the connection is closing: inbound bytes are read and dropped.
        case lingering
    }

    private let policy: ConnectionPolicy
    /// Bytes to send at once and then close: the answer of a connection over the limit.
    private let refusal: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var phase = Phase.awaitingHead
    private var phaseStart = NIODeadline.now()
    private var firstHeadByte: NIODeadline?
    /// When the socket was last asked for bytes that have not come yet: a stall only counts while the server
    /// wants the body, never while it holds the body back (backpressure from a slow disk).
    private var readPendingSince: NIODeadline?
    private var lastByte = NIODeadline.now()
    private var lingered = 0
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(policy: ConnectionPolicy, refusal: ByteBuffer? = nil) {
        self.policy = policy
        self.refusal = refusal
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        phaseStart = .now()
        if let refusal {
            context.writeAndFlush(wrapOutboundOut(refusal), promise: nil)
            startLingering(shutOutput: true)
        } else {
            rearm()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now()
        lastByte = now
        readPendingSince = nil
        switch phase {
        case .lingering:
            lingered += unwrapInboundIn(data).readableBytes
            if lingered > policy.lingerBytes { context.close(promise: nil) }
            return
        case .awaitingHead where firstHeadByte == nil:
            firstHeadByte = now
            rearm()
        default:
            break
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // While lingering nobody above asks for more: keep draining the socket so that closing it does not
        // reset the connection under a response the client has yet to read.
        if phase == .lingering { context.read() } else { context.fireChannelReadComplete() }
    }

    func read(context: ChannelHandlerContext) {
        if readPendingSince == nil { readPendingSince = .now() }
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if phase == .lingering, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Phases, reported by RequestPhaseTracker

    func requestHeadReceived() { enter(.readingBody) }
    func requestBodyEnded() { if phase == .readingBody { enter(.responding) } }
    func responseEnded() { if phase == .responding || phase == .readingBody { enter(.awaitingHead) } }

    /// Stops handing bytes on and drops them instead, until the client closes or a linger bound is reached.
    /// The output should be shut (after the response) so that the client sees the response end: by the
    /// caller, or here with `shutOutput`.
    func startLingering(shutOutput: Bool) {
        guard let context, phase != .lingering else { return }
        enter(.lingering)
        lingered = 0
        if shutOutput { context.close(mode: .output, promise: nil) }
        context.read()
    }

    private func enter(_ next: Phase) {
        phase = next
        phaseStart = .now()
        firstHeadByte = nil
        if next == .readingBody { readPendingSince = nil }
        rearm()
    }

    // MARK: Timers

    /// When the current phase runs out of time, if it can.
    private func deadline() -> NIODeadline? {
        switch phase {
        case .awaitingHead:
            if let firstHeadByte { return firstHeadByte + TimeAmount(policy.headerTimeout) }
            return phaseStart + TimeAmount(policy.idleTimeout)
        case .readingBody:
            return (readPendingSince ?? .now()) + TimeAmount(policy.bodyStallTimeout)
        case .responding:
            return nil
        case .lingering:
            return min(phaseStart + TimeAmount(policy.lingerTime), lastByte + TimeAmount(policy.lingerIdle))
        }
    }

    private func rearm() {
        guard let context else { return }
        guard let due = deadline() else {
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            return
        }
        if let timerDeadline, timerDeadline <= due { return }
        timer?.cancel()
        timerDeadline = due
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: due) { [self] in
            timer = nil
            timerDeadline = nil
            expire()
        }
    }

    private func expire() {
        guard let context else { return }
        guard let due = deadline(), due <= .now() else {
            rearm()
            return
        }
        switch phase {
        case .awaitingHead, .lingering:
            context.close(promise: nil)
        case .readingBody:
            guard readPendingSince != nil else {
                rearm()
                return
            }
            // Fail the body stream: the handler answers RequestTimeout and the connection then closes.
            enter(.responding)
            context.fireErrorCaught(BodyStreamError.stalled)
        case .responding:
            break
        }
    }
}
