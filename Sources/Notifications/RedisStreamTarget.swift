import Foundation
import NIOCore
import NIOPosix

/// A Redis stream: each event is `XADD STREAM * event JSON bucket B key K sequencer S`, which a pipeline reads
/// with `XREADGROUP` and acknowledges with `XACK`.
///
/// No Swift Redis client is available to this build (RediStack is not among the packages it may use), and
/// what this needs of RESP is small: commands are arrays of bulk strings, and each answer is one reply read in
/// order. One connection, opened on first use and again after any failure.
final actor RedisStreamTarget: EventTarget {
    let spec: TargetSpec
    private let endpoint: RedisEndpoint
    private var connection: Channel?
    private var connecting: Task<Channel, any Error>?

    init(spec: TargetSpec) throws {
        self.spec = spec
        guard let endpoint = RedisEndpoint(url: spec.url) else { throw TargetError("target \(spec.id): bad Redis URL") }
        self.endpoint = endpoint
    }

    func deliver(_ message: [UInt8], sequencer: String) async throws {
        let channel = try await connected()
        do {
            let reply = try await Self.send(["XADD", endpoint.stream, "*", "event", message, "sequencer", Array(sequencer.utf8)], on: channel, timeout: spec.timeout)
            if case .error(let text) = reply { throw TargetError("redis: \(text)") }
        } catch {
            connection = nil
            channel.close(promise: nil)
            throw error
        }
    }

    func shutdown() async {
        try? await connection?.close()
        connection = nil
    }

    /// The connection, opened once however many lanes ask at the same moment.
    private func connected() async throws -> Channel {
        if let connection, connection.isActive { return connection }
        if let connecting { return try await connecting.value }
        let task = Task { try await self.open() }
        connecting = task
        defer { connecting = nil }
        let channel = try await task.value
        connection = channel
        return channel
    }

    private func open() async throws -> Channel {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(spec.timeout * 1000)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(RESPClientHandler()) }
            }
            .connect(host: endpoint.host, port: endpoint.port).get()
        do {
            if let password = endpoint.password {
                let words: [[UInt8]] = endpoint.user.map { [Array("AUTH".utf8), Array($0.utf8), Array(password.utf8)] }
                    ?? [Array("AUTH".utf8), Array(password.utf8)]
                if case .error(let text) = try await Self.send(words, on: channel, timeout: spec.timeout) {
                    throw TargetError("redis AUTH: \(text)")
                }
            }
            if endpoint.database != 0,
               case .error(let text) = try await Self.send(["SELECT", String(endpoint.database)], on: channel, timeout: spec.timeout) {
                throw TargetError("redis SELECT: \(text)")
            }
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return channel
    }

    private static func send(_ words: [any RESPWord], on channel: Channel, timeout: Double) async throws -> RESPReply {
        let promise = channel.eventLoop.makePromise(of: RESPReply.self)
        let deadline = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            promise.fail(TargetError("redis did not answer within \(timeout) s"))
        }
        channel.writeAndFlush(RESPCommand(words: words.map(\.respBytes), reply: promise), promise: nil)
        defer { deadline.cancel() }
        return try await promise.futureResult.get()
    }
}

/// `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?stream=NAME]`.
struct RedisEndpoint: Equatable {
    var host: String
    var port: Int
    var user: String?
    var password: String?
    var database: Int
    var stream: String

    init?(url: String) {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "redis",
              let host = components.host, !host.isEmpty else { return nil }
        self.host = host
        port = components.port ?? 6379
        user = components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding }
        password = components.password?.removingPercentEncoding
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard let database = path.isEmpty ? 0 : Int(path), database >= 0 else { return nil }
        self.database = database
        stream = components.queryItems?.first { $0.name == "stream" }?.value ?? "martlet-events"
        if stream.isEmpty { return nil }
    }
}

protocol RESPWord { var respBytes: [UInt8] { get } }
extension String: RESPWord { var respBytes: [UInt8] { Array(utf8) } }
extension Array: RESPWord where Element == UInt8 { var respBytes: [UInt8] { self } }

enum RESPReply: Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8]?)
    case array([RESPReply]?)
}

struct RESPCommand {
    var words: [[UInt8]]
    var reply: EventLoopPromise<RESPReply>
}

/// Writes commands and answers their promises in order as replies arrive.
final class RESPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RESPCommand
    typealias OutboundOut = ByteBuffer

    private var buffer = ByteBuffer()
    private var waiting = CircularBuffer<EventLoopPromise<RESPReply>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        var out = context.channel.allocator.buffer(capacity: 64 + command.words.reduce(0) { $0 + $1.count + 16 })
        out.writeString("*\(command.words.count)\r\n")
        for word in command.words {
            out.writeString("$\(word.count)\r\n")
            out.writeBytes(word)
            out.writeString("\r\n")
        }
        waiting.append(command.reply)
        context.write(wrapOutboundOut(out), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while !waiting.isEmpty {
            var cursor = buffer
            guard let reply = RESPParser.parse(&cursor) else { break }
            buffer = cursor
            waiting.removeFirst().succeed(reply)
        }
        buffer.discardReadBytes()
        if buffer.readableBytes > 1 << 20 { failAll(TargetError("redis: reply too large")); context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(TargetError("redis closed the connection"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        while let promise = waiting.popFirst() { promise.fail(error) }
    }
}

/// RESP2 replies; nil until a whole reply has arrived.
enum RESPParser {
    static func parse(_ buffer: inout ByteBuffer) -> RESPReply? {
        guard let kind = buffer.readInteger(as: UInt8.self), let line = readLine(&buffer) else { return nil }
        switch kind {
        case UInt8(ascii: "+"): return .simple(line)
        case UInt8(ascii: "-"): return .error(line)
        case UInt8(ascii: ":"): return Int64(line).map(RESPReply.integer) ?? .error("bad integer reply")
        case UInt8(ascii: "$"):
            guard let length = Int(line) else { return .error("bad bulk reply") }
            if length < 0 { return .bulk(nil) }
            guard buffer.readableBytes >= length + 2, let bytes = buffer.readBytes(length: length) else { return nil }
            buffer.moveReaderIndex(forwardBy: 2)
            return .bulk(bytes)
        case UInt8(ascii: "*"):
            guard let count = Int(line) else { return .error("bad array reply") }
            if count < 0 { return .array(nil) }
            var items: [RESPReply] = []
            for _ in 0..<count {
                guard let item = parse(&buffer) else { return nil }
                items.append(item)
            }
            return .array(items)
        default:
            return .error("unknown reply type")
        }
    }

    private static func readLine(_ buffer: inout ByteBuffer) -> String? {
        guard let view = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\r")),
              buffer.readableBytesView.index(after: view) < buffer.readableBytesView.endIndex,
              buffer.readableBytesView[buffer.readableBytesView.index(after: view)] == UInt8(ascii: "\n")
        else { return nil }
        let length = view - buffer.readerIndex
        let line = buffer.readString(length: length)
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }
}
