import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// What a connection's task writes: HTTP response parts, or a range of a file for the kernel to send as body
/// bytes (`sendfile`: no copy through user space; plain HTTP only, as TLS must encrypt every byte itself).
enum ResponseOutput: Sendable {
    case http(HTTPResponsePart)
    case file(SentFile)
}

/// A byte range of a file on its way to the socket. Owns its descriptor: it is closed when the write completes,
/// or when the range is dropped unwritten (a connection that closed first).
final class SentFile: @unchecked Sendable {
    // `handle` is touched on the event loop only, after the task hands the range over.
    private let handle: NIOFileHandle
    let region: FileRegion

    /// Takes ownership of `descriptor`.
    init(descriptor: CInt, offset: Int64, length: Int64) {
        handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        region = FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(offset + length))
    }

    func close() {
        if handle.isOpen { try? handle.close() }
    }

    deinit { close() }
}

/// Passes HTTP parts on to the HTTPTypes codec, and writes file ranges below it, straight into the HTTP/1
/// encoder (which takes `IOData` bodies): the only way a `FileRegion` reaches the socket, since HTTPTypes bodies
/// are byte buffers. Writes arrive in order on the event loop, so a range always follows its response's head.
final class ResponseOutputRouter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ResponseOutput
    typealias OutboundOut = HTTPResponsePart

    /// The context of the `HTTP1ToHTTPServerCodec`: a write there goes to the handlers after it.
    private let codecContext: ChannelHandlerContext

    init(codecContext: ChannelHandlerContext) {
        self.codecContext = codecContext
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .http(let part):
            context.write(wrapOutboundOut(part), promise: promise)
        case .file(let file):
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in file.close() }
            if let promise { written.futureResult.cascade(to: promise) }
            codecContext.write(NIOAny(HTTPServerResponsePart.body(.fileRegion(file.region))), promise: written)
        }
    }
}

/// A body writer that can also send file ranges; the GET handler asks for it.
protocol FileSendingBodyWriter: AnyObject {
    /// False on TLS connections: write the bytes instead.
    var sendsFiles: Bool { get }
    /// Sends `length` bytes from `offset` of the file, taking ownership of `descriptor`.
    func sendFile(descriptor: CInt, offset: Int64, length: Int64) async throws
}

/// Writes a response to a connection in as few writes as it can: the head waits for the first body bytes, and
/// a body that comes whole in one buffer or one file range waits for the end, so a response held in memory or in
/// one file leaves in one write (one event loop pass). A streamed body's chunks go out as they come.
final class ResponseOutputWriter: ResponseBodyWriter, FileSendingBodyWriter {
    private let outbound: NIOAsyncChannelOutboundWriter<ResponseOutput>
    let sendsFiles: Bool
    private var held: [ResponseOutput] = []
    private var wholeBodyLength: Int?

    init(outbound: NIOAsyncChannelOutboundWriter<ResponseOutput>, sendsFiles: Bool) {
        self.outbound = outbound
        self.sendsFiles = sendsFiles
    }

    /// Writes the head and body, and the end of the response. If the body fails midway, what it wrote is sent
    /// before the error is thrown: the client sees the status line and a body cut short of its length.
    func write(response head: HTTPResponse, body: ResponseBody) async throws {
        held.append(.http(.head(head)))
        wholeBodyLength = head.headerFields[.contentLength].flatMap { Int($0) }
        do {
            try await body.write(self)
        } catch {
            if !held.isEmpty { try? await release() }
            throw error
        }
    }

    func write(_ buffer: ByteBuffer) async throws {
        if holdsFile { try await release() }
        held.append(.http(.body(buffer)))
        if buffer.readableBytes != wholeBodyLength { try await release() }
        wholeBodyLength = nil
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {
        held.append(.http(.end(trailingHeaders)))
        try await release()
    }

    /// A file range waits, like a whole body, for what comes next: the head, a one-file body and the end leave in
    /// one write. The range's descriptor is all that is held.
    func sendFile(descriptor: CInt, offset: Int64, length: Int64) async throws {
        let file = SentFile(descriptor: descriptor, offset: offset, length: length)
        wholeBodyLength = nil
        if holdsFile { try await release() }
        held.append(.file(file))
    }

    private var holdsFile: Bool {
        held.contains { if case .file = $0 { true } else { false } }
    }

    private func release() async throws {
        let parts = held
        held.removeAll(keepingCapacity: true)
        try await outbound.write(contentsOf: parts)
    }
}
