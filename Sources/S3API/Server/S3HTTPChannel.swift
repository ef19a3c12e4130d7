import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import S3Wire
import Synchronization

/// One HTTP/1.1 connection of the S3 server. Hummingbird's own HTTP channel keeps reading a request body
/// that nobody wants, answers a malformed head with a bare 400, and has one idle timeout; this one answers
/// every failure with an S3 error document, enforces the ``ConnectionPolicy`` (through ``ConnectionGuard``),
/// and closes a connection the way its response says, lingering so that the client can read that response.
struct S3HTTPChannel: ServerChildChannel {
    typealias Value = S3Connection

    let server: S3Server
    let isTLS: Bool
    /// The website listener's connections: every request on them is a website request.
    let isWebsite: Bool
    let connections: ConnectionCounter

    init(server: S3Server, isTLS: Bool, isWebsite: Bool = false) {
        self.server = server
        self.isTLS = isTLS
        self.isWebsite = isWebsite
        self.connections = ConnectionCounter(limit: server.configuration.connections.maxConnections)
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<S3Connection> {
        channel.eventLoop.makeCompletedFuture {
            let admitted = connections.open()
            let counter = connections
            channel.closeFuture.whenComplete { _ in counter.close() }
            let policy = server.configuration.connections
            let pipeline = channel.pipeline.syncOperations
            guard admitted else {
                let refusal = server.refusalBytes(allocator: channel.allocator)
                try pipeline.addHandler(ConnectionGuard(policy: policy, refusal: refusal))
                return S3Connection(channel: channel, exchange: nil, connectionGuard: nil)
            }
            let connectionGuard = ConnectionGuard(policy: policy)
            try pipeline.addHandler(connectionGuard)
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: .init())
            try pipeline.addHandler(HTTP10Connection())
            let codec = HTTP1ToHTTPServerCodec(secure: isTLS)
            try pipeline.addHandler(codec)
            try pipeline.addHandler(RequestPhaseTracker(connectionGuard: connectionGuard))
            try pipeline.addHandler(ResponseOutputRouter(codecContext: try pipeline.context(handler: codec)))
            let exchange = try NIOAsyncChannel<HTTPRequestPart, ResponseOutput>(
                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
            return S3Connection(channel: channel, exchange: exchange, connectionGuard: UnsafeTransfer(connectionGuard))
        }
    }

    func handle(value connection: S3Connection, logger: Logger) async {
        guard let exchange = connection.exchange, let connectionGuard = connection.connectionGuard else {
            try? await connection.channel.closeFuture.get()
            return
        }
        let executor = EventLoopTaskExecutor(connection.channel.eventLoop)
        await withTaskExecutorPreference(executor) {
            await serveConnection(exchange: exchange, connectionGuard: connectionGuard, logger: logger)
        }
    }

    private func serveConnection(
        exchange: NIOAsyncChannel<HTTPRequestPart, ResponseOutput>, connectionGuard: UnsafeTransfer<ConnectionGuard>,
        logger: Logger
    ) async {
        server.metrics.openConnections.increment()
        defer { server.metrics.openConnections.decrement() }
        do {
            try await exchange.executeThenClose { inbound, outbound in
                let info = ConnectionInfo(remoteIP: exchange.channel.remoteAddress?.ipAddress, isTLS: isTLS, isWebsite: isWebsite)
                try await serve(inbound: inbound, outbound: outbound, connection: info)
                // Shut the output once the last response is out, then drop what the client still sends until
                // it closes: closing with unread bytes would reset the connection under the response.
                outbound.finish()
                exchange.channel.eventLoop.execute {
                    connectionGuard.wrappedValue.startLingering(shutOutput: false)
                }
                try await exchange.channel.closeFuture.get()
            }
        } catch {
            // The client went away, or the connection was closed by a timeout: nothing is left to answer.
            logger.debug("connection closed: \(error)")
        }
    }

    /// Answers requests one after another until one of them ends the connection.
    private func serve(
        inbound: NIOAsyncChannelInboundStream<HTTPRequestPart>, outbound: NIOAsyncChannelOutboundWriter<ResponseOutput>,
        connection: ConnectionInfo
    ) async throws {
        var iterator = inbound.makeAsyncIterator()
        while true {
            let head: HTTPRequest
            do {
                guard let part = try await iterator.next() else { return }
                guard case .head(let received) = part else { return }
                head = received
            } catch {
                // A head that does not parse: answer it, and close (the rest of the stream is unreadable).
                let response = server.malformedRequestResponse(error)
                try await ResponseOutputWriter(outbound: outbound, sendsFiles: false).write(response: response.head, body: response.body)
                return
            }
            let started = ContinuousClock.now
            let body = InboundBody(iterator: UnsafeTransfer(iterator))
            let request = Request(head: head, body: RequestBody(asyncSequence: body))
            let response = await server.respond(to: request, connection: connection) {
                try await outbound.write(.http(.head(HTTPResponse(status: .continue))))
            }
            try await ResponseOutputWriter(outbound: outbound, sendsFiles: !isTLS).write(response: response.head, body: response.body)
            let duration = started.duration(to: .now)
            let bytesIn = head.headerFields[.contentLength].flatMap { Int64($0) } ?? 0
            let bytesOut = response.headers[.contentLength].flatMap { Int64($0) } ?? 0
            server.metrics.record(
                operation: response.operation ?? "Unknown", status: response.status.code, duration: duration,
                bytesIn: bytesIn, bytesOut: bytesOut)
            server.logAccess(response, remote: connection.remoteIP, bytesIn: bytesIn, bytesOut: bytesOut, duration: duration)
            let closes = response.headers[.connection]?.lowercased() == "close" || head.headerFields[.connection]?.lowercased() == "close"
            if closes || body.state.failed { return }
            // A body the handler did not want is read and dropped, so that the next request can be parsed.
            if !body.state.ended {
                while let part = try await iterator.next() {
                    if case .end = part { break }
                }
            }
        }
    }
}

/// What ``S3HTTPChannel/setup(channel:logger:)`` hands to ``S3HTTPChannel/handle(value:logger:)``; a connection over
/// the limit has no exchange: its guard answers and closes it.
struct S3Connection: ServerChildChannelValue {
    let channel: any Channel
    let exchange: NIOAsyncChannel<HTTPRequestPart, ResponseOutput>?
    let connectionGuard: UnsafeTransfer<ConnectionGuard>?
}

/// A request body read straight from the connection's part stream, which reports how it ended.
struct InboundBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    final class State: Sendable {
        private let flags = Atomic<UInt8>(0)
        var ended: Bool { flags.load(ordering: .relaxed) & 1 != 0 }
        var failed: Bool { flags.load(ordering: .relaxed) & 2 != 0 }
        func markEnded() { flags.bitwiseOr(1, ordering: .relaxed) }
        func markFailed() { flags.bitwiseOr(2, ordering: .relaxed) }
    }

    // The connection's iterator is shared by copy, as Hummingbird does: its state lives in the stream.
    let iterator: UnsafeTransfer<NIOAsyncChannelInboundStream<HTTPRequestPart>.AsyncIterator>
    let state = State()

    struct AsyncIterator: AsyncIteratorProtocol {
        var iterator: NIOAsyncChannelInboundStream<HTTPRequestPart>.AsyncIterator
        let state: State

        mutating func next() async throws -> ByteBuffer? {
            guard !state.ended, !state.failed else { return nil }
            do {
                switch try await iterator.next() {
                case .body(let buffer): return buffer
                case .end:
                    state.markEnded()
                    return nil
                case .head, nil:
                    state.markFailed()
                    throw BodyStreamError.truncated
                }
            } catch let error as BodyStreamError {
                state.markFailed()
                throw error
            } catch let error as HTTPParserError {
                state.markFailed()
                throw error == .invalidEOFState ? BodyStreamError.truncated : BodyStreamError.malformedFraming
            } catch {
                state.markFailed()
                throw BodyStreamError.truncated
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(iterator: iterator.wrappedValue, state: state)
    }
}

/// Tells the ``ConnectionGuard`` where the connection is in its request/response cycle, and closes an idle
/// connection when the server shuts down gracefully.
final class RequestPhaseTracker: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let connectionGuard: ConnectionGuard
    private var requestInFlight = false
    private var closeAfterResponse = false

    init(connectionGuard: ConnectionGuard) {
        self.connectionGuard = connectionGuard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestInFlight = true
            connectionGuard.requestHeadReceived()
        case .end:
            connectionGuard.requestBodyEnded()
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        requestInFlight = false
        connectionGuard.responseEnded()
        if closeAfterResponse {
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
        } else {
            context.write(data, promise: promise)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // Graceful shutdown: an idle connection closes now, a busy one after its response.
        if requestInFlight { closeAfterResponse = true } else { context.close(promise: nil) }
    }
}

/// Counts open connections against the limit.
final class ConnectionCounter: Sendable {
    private let open_ = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Counts a new connection; false when it is over the limit (it still counts until it closes).
    func open() -> Bool { open_.wrappingAdd(1, ordering: .relaxed).newValue <= limit }
    func close() { open_.wrappingSubtract(1, ordering: .relaxed) }
}

/// Carries a value that is only ever used on one event loop across a `Sendable` boundary.
struct UnsafeTransfer<Wrapped>: @unchecked Sendable {
    var wrappedValue: Wrapped
    init(_ wrappedValue: Wrapped) { self.wrappedValue = wrappedValue }
}
