import Foundation
import HTTPTypes
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ObjectStore
import S3Auth
import S3Wire
import ServiceLifecycle

/// The S3 HTTP server: parses, authenticates and dispatches every request, and owns the response writing so
/// that `100 Continue` goes out only after a request has passed authentication.
public struct S3Server: Sendable {
    let configuration: S3ServerConfiguration
    let authenticator: RequestAuthenticator
    let handlers: S3Handlers
    let authorizer: Authorizer
    let queryAPI: QueryAPI
    let logger: Logger
    let metrics = RequestMetrics()
    let accessLogger: Logger
    var storage: Storage { handlers.storage }
    /// Sent as `x-amz-id-2`; fixed per process, as AWS's host id is per host.
    let hostID: String

    public init(configuration: S3ServerConfiguration, storage: Storage, logger: Logger) {
        self.configuration = configuration
        self.authenticator = RequestAuthenticator(
            region: configuration.region, credentials: configuration.directory, services: QueryAPI.services.union(["s3"]))
        self.authorizer = Authorizer(directory: configuration.directory, index: storage.index)
        self.handlers = S3Handlers(
            storage: storage, configuration: configuration, logger: logger, authorizer: authorizer, authenticator: authenticator)
        self.queryAPI = QueryAPI(directory: configuration.directory, logger: logger)
        self.logger = logger
        var access = logger
        access[metadataKey: "log"] = "access"
        self.accessLogger = access
        self.hostID = Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    /// The server as a service-lifecycle `Service`; `onRunning` gets the bound address (useful with port 0).
    public func makeService(onRunning: @escaping @Sendable (SocketAddress?) async -> Void = { _ in }) throws -> any Service {
        let address = ServerConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: nil)
        let http1 = S3HTTPChannel(server: self, isTLS: configuration.tls != nil)
        guard let tls = configuration.tls else {
            return http1.server(
                configuration: address, onServerRunning: { await onRunning($0.localAddress) },
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
        }
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)
        let tlsConfiguration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        return try TLSChannel(http1, tlsConfiguration: tlsConfiguration).server(
            configuration: address, onServerRunning: { await onRunning($0.localAddress) },
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
    }

    /// The website endpoint's own listener (plain HTTP, as AWS's website endpoints are), when one is configured.
    public func makeWebsiteService(host: String, port: Int) -> any Service {
        let address = ServerConfiguration(address: .hostname(host, port: port), serverName: nil)
        return S3HTTPChannel(server: self, isTLS: false, isWebsite: true).server(
            configuration: address, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
    }

    /// Answers one request: authenticates and parses it, then runs its handler. `sendContinue` answers
    /// `Expect: 100-continue`, and is called only once an upload has passed its checks.
    func respond(to request: Request, connection: ConnectionInfo, sendContinue: () async throws -> Void) async -> S3Response {
        if let bucket = websiteBucket(request, connection: connection) {
            var response = await serveWebsite(request, bucket: bucket, connection: connection)
            response.operation = "Website"
            return response
        }
        if var response = await observability(request) {
            response.operation = "Health"
            return response
        }
        if request.method == .options {
            var response = await preflight(request)
            response.operation = "Preflight"
            return response
        }
        var response = await answer(request, connection: connection, sendContinue: sendContinue)
        if request.headers[.origin] != nil { await addCORSHeaders(for: request, to: &response) }
        return response
    }

    private func answer(_ request: Request, connection: ConnectionInfo, sendContinue: () async throws -> Void) async -> S3Response {
        if QueryAPI.addresses(request, domain: configuration.domain) {
            let requestID = RequestID.make()
            var response = finish(await queryAPI.respond(to: request, requestID: requestID, authenticator: authenticator), requestID: requestID)
            response.operation = "IAM"
            return response
        }
        switch await prepare(request, connection: connection) {
        case .success(var context):
            var response = await respond(to: request, context: &context, sendContinue: sendContinue)
            response.operation = context.endpoint.operationName
            response.principal = context.auth.accessKey
            (response.bucket, response.key) = context.endpoint.bucketAndKey
            return response
        case .failure(let failure):
            var response = failure.response
            response.operation = "Refused"
            return response
        }
    }

    struct PreparedFailure: Error {
        var response: S3Response
    }

    /// Authenticates and parses a request into a ``RequestContext``, or the error response to send instead.
    func prepare(_ request: Request, connection: ConnectionInfo) async -> Result<RequestContext, PreparedFailure> {
        let requestID = RequestID.make()
        let rawPathAndQuery = request.head.path ?? "/"
        let (rawPath, rawQuery) = Self.split(rawPathAndQuery)
        do {
            try Self.checkTransferEncoding(request.headers)
            let target = try RequestTarget(rawPath: rawPath, host: request.head.authority, domain: configuration.domain)
            let query = try QueryParameters(rawQuery: rawQuery)
            let auth = try authenticate(request, target: target, rawPath: rawPath, rawQuery: rawQuery)
            let endpoint = try S3Endpoint.parse(method: request.method, target: target, query: query, headers: request.headers)
            var context = RequestContext(
                requestID: requestID, method: request.method, headers: request.headers, target: target, query: query,
                auth: auth, endpoint: endpoint, authority: request.head.authority, connection: connection)
            context.access = RequestAccess(authorizer: authorizer)
            try await authorizer.authorize(context)
            return .success(context)
        } catch {
            let error = preparationError(error, requestID: requestID)
            let resource = Percent.decode(rawPath, plusIsSpace: false) ?? rawPath
            var response = finish(error.response(resource: resource, requestID: requestID, hostID: hostID, isHead: request.method == .head),
                                  requestID: requestID)
            closeIfBodyUnread(request, &response)
            return .failure(PreparedFailure(response: response))
        }
    }

    /// Parsing and authentication throw S3 errors; the authorizer's index lookups may fail too.
    private func preparationError(_ error: any Error, requestID: String) -> S3Error {
        switch error {
        case let error as S3Error: return error
        case let error as StoreError: return S3Error.from(error, bucket: nil, key: nil)
        default:
            logger.error("server fault", metadata: ["request-id": "\(requestID)", "error": "\(error)"])
            return S3Error(.internalError)
        }
    }

    private func authenticate(_ request: Request, target: RequestTarget, rawPath: String, rawQuery: String) throws(S3Error) -> VerifiedRequest {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 1)
        // HTTP/1 Host arrives as the request's authority in HTTPTypes; signatures cover it as `host`.
        if let authority = request.head.authority { headers.append(("host", authority)) }
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        let parts = HTTPRequestParts(
            method: request.method.rawValue, rawPath: rawPath, rawQuery: rawQuery, headers: headers,
            sigV2ResourcePath: target.pathStyleRawPath == rawPath ? nil : target.pathStyleRawPath)
        do {
            return try authenticator.authenticate(parts, now: Date())
        } catch {
            throw S3Error.from(error)
        }
    }

    /// Checks an upload before inviting its body (`sendContinue` answers `Expect: 100-continue`), then runs
    /// the handler, turning whatever is thrown into an S3 error response.
    func respond(
        to request: Request, context: inout RequestContext, sendContinue: () async throws -> Void
    ) async -> S3Response {
        do {
            if context.endpoint.streamsRequestBody {
                try await handlers.planUpload(&context)
                if expectsContinue(request) { try await sendContinue() }
            }
            // GET and HEAD change nothing; what another request changes, the index records events about in the
            // change's own transaction, naming this request.
            if context.method == .get || context.method == .head {
                return finish(try await handlers.handle(context, body: request.body), requestID: context.requestID)
            }
            let origin = ChangeOrigin(
                requestID: context.requestID, principalID: context.auth.accessKey.map { "AWS:" + $0 } ?? "Anonymous",
                sourceIP: context.connection.remoteIP ?? "")
            let handled = try await ChangeOrigin.$current.withValue(origin) { [context] in
                try await handlers.handle(context, body: request.body)
            }
            return finish(handled, requestID: context.requestID)
        } catch {
            var response = errorResponse(for: error, context: context)
            if !context.bodyProgress.isFinished || error is BodyStreamError { closeIfBodyUnread(request, &response) }
            return finish(response, requestID: context.requestID)
        }
    }

    /// The one place a handler's error becomes an S3 error document.
    private func errorResponse(for error: any Error, context: RequestContext) -> S3Response {
        let (bucket, key) = context.endpoint.bucketAndKey
        let s3Error: S3Error
        switch error {
        case let error as S3Error: s3Error = error
        case let error as StoreError: s3Error = S3Error.from(error, bucket: bucket, key: key)
        case let error as AuthFailure: s3Error = S3Error.from(error)
        case let error as BodyStreamError: s3Error = S3Error.from(error)
        default: s3Error = S3Error(.internalError)
        }
        if s3Error.code == .internalError || s3Error.code == .serviceUnavailable {
            logger.error("server fault", metadata: ["request-id": "\(context.requestID)", "error": "\(error)"])
        } else if error is BodyStreamError {
            logger.debug("request body failed", metadata: ["request-id": "\(context.requestID)", "error": "\(error)"])
        }
        let resource = "/" + [bucket, key].compactMap { $0 }.joined(separator: "/")
        return s3Error.response(resource: resource, requestID: context.requestID, hostID: hostID, isHead: context.method == .head)
    }

    /// Adds the headers every S3 response carries.
    func finish(_ response: S3Response, requestID: String) -> S3Response {
        var response = response
        response.headers[.amzRequestID] = requestID
        response.headers[.amzID2] = hostID
        response.headers[.date] = DateHeader.now()
        response.headers[.server] = "Martlet"
        return response
    }

    /// An error answered before the body was read leaves the body on the wire (a client that sent
    /// `Expect: 100-continue` never sends it), so the connection cannot carry another request: the response
    /// says `Connection: close`, and the client hangs up. Hummingbird meanwhile drains whatever body does
    /// arrive; closing the socket under a client still sending risks a reset that destroys the error
    /// response before the client reads it.
    private func closeIfBodyUnread(_ request: Request, _ response: inout S3Response) {
        let declaresBody = request.headers[.transferEncoding] != nil
            || (request.headers[.contentLength].flatMap { Int64($0) } ?? 0) > 0
        if declaresBody { response.headers[.connection] = "close" }
    }

    /// S3 takes bodies whole or `chunked`; any other transfer coding is not implemented, as on AWS.
    static func checkTransferEncoding(_ headers: HTTPFields) throws(S3Error) {
        guard let coding = headers[.transferEncoding] else { return }
        guard coding.trimmingCharacters(in: .whitespaces).lowercased() == "chunked" else {
            throw S3Error(.notImplemented, "A header you provided implies functionality that is not implemented",
                          details: [("Header", "Transfer-Encoding")])
        }
    }

    /// The answer to a request whose head cannot be parsed; the connection closes after it.
    func malformedRequestResponse(_ error: any Error) -> S3Response {
        let requestID = RequestID.make()
        logger.debug("malformed request head", metadata: ["request-id": "\(requestID)", "error": "\(error)"])
        let s3Error = S3Error(.badRequest, "An error occurred when parsing the HTTP request.")
        var response = finish(s3Error.response(resource: "/", requestID: requestID, hostID: hostID, isHead: false), requestID: requestID)
        response.headers[.connection] = "close"
        return response
    }

    /// The whole HTTP response sent on a connection over the limit before it is closed: 503 SlowDown, which
    /// SDKs retry with backoff.
    func refusalBytes(allocator: ByteBufferAllocator) -> ByteBuffer {
        let requestID = RequestID.make()
        let body = S3Error(.slowDown).document(resource: "/", requestID: requestID, hostID: hostID).text
        let status = S3ErrorCode.slowDown.status
        let head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nContent-Type: application/xml\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\nx-amz-request-id: \(requestID)\r\n"
            + "x-amz-id-2: \(hostID)\r\nDate: \(HTTPDate.rfc1123(Date()))\r\nServer: Martlet\r\n\r\n"
        var buffer = allocator.buffer(capacity: head.utf8.count + body.utf8.count)
        buffer.writeString(head)
        buffer.writeString(body)
        return buffer
    }

    private func expectsContinue(_ request: Request) -> Bool {
        request.headers[.expect]?.lowercased() == "100-continue"
    }

    static func split(_ pathAndQuery: String) -> (path: String, query: String) {
        guard let mark = pathAndQuery.firstIndex(of: "?") else { return (pathAndQuery, "") }
        return (String(pathAndQuery[..<mark]), String(pathAndQuery[pathAndQuery.index(after: mark)...]))
    }
}

extension S3Response {
    var head: HTTPResponse { HTTPResponse(status: status, headerFields: headers) }
}
