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
import ServiceLifecycle

/// The S3 HTTP server: parses, authenticates and dispatches every request, and owns the response writing so
/// that `100 Continue` goes out only after a request has passed authentication.
public struct S3Server: Sendable {
    let configuration: S3ServerConfiguration
    let authenticator: RequestAuthenticator
    let handlers: S3Handlers
    let logger: Logger
    /// Sent as `x-amz-id-2`; fixed per process, as AWS's host id is per host.
    let hostID: String

    public init(configuration: S3ServerConfiguration, storage: Storage, logger: Logger) {
        self.configuration = configuration
        self.authenticator = RequestAuthenticator(region: configuration.region, credentials: configuration.credentials)
        self.handlers = S3Handlers(storage: storage, configuration: configuration, logger: logger)
        self.logger = logger
        self.hostID = Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    /// The server as a service-lifecycle `Service`; `onRunning` gets the bound address (useful with port 0).
    public func makeService(onRunning: @escaping @Sendable (SocketAddress?) async -> Void = { _ in }) throws -> any Service {
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(300)))
        let builder: HTTPServerBuilder
        if let tls = configuration.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)
            let tlsConfiguration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            builder = try .tls(http1, tlsConfiguration: tlsConfiguration)
        } else {
            builder = http1
        }
        let server = self
        return try builder.buildServer(
            configuration: ServerConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger,
            responder: { request, writer, _ in
                let exchange = await server.prepare(request)
                var response: S3Response
                switch exchange {
                case .success(var context):
                    response = await server.respond(to: request, context: &context) {
                        try await writer.writeInformationalHead(HTTPResponse(status: .continue))
                    }
                case .failure(let failure):
                    response = failure.response
                }
                try await writer.write(response: response.head, body: response.body)
            },
            onServerRunning: { channel in await onRunning(channel.localAddress) }
        )
    }

    struct PreparedFailure: Error {
        var response: S3Response
    }

    /// Authenticates and parses a request into a ``RequestContext``, or the error response to send instead.
    func prepare(_ request: Request) async -> Result<RequestContext, PreparedFailure> {
        let requestID = RequestID.make()
        let rawPathAndQuery = request.head.path ?? "/"
        let (rawPath, rawQuery) = Self.split(rawPathAndQuery)
        do throws(S3Error) {
            let target = try RequestTarget(rawPath: rawPath, host: request.head.authority, domain: configuration.domain)
            let query = try QueryParameters(rawQuery: rawQuery)
            let auth = try authenticate(request, target: target, rawPath: rawPath, rawQuery: rawQuery)
            guard auth.accessKey != nil else { throw S3Error(.accessDenied) }
            let endpoint = try S3Endpoint.parse(method: request.method, target: target, query: query, headers: request.headers)
            return .success(RequestContext(
                requestID: requestID, method: request.method, headers: request.headers, target: target, query: query,
                auth: auth, endpoint: endpoint))
        } catch {
            let resource = Percent.decode(rawPath, plusIsSpace: false) ?? rawPath
            var response = finish(error.response(resource: resource, requestID: requestID, hostID: hostID, isHead: request.method == .head),
                                  requestID: requestID)
            closeIfBodyUnread(request, &response)
            return .failure(PreparedFailure(response: response))
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
            return finish(try await handlers.handle(context, body: request.body), requestID: context.requestID)
        } catch {
            var response = errorResponse(for: error, context: context)
            if !context.bodyProgress.isFinished { closeIfBodyUnread(request, &response) }
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
        default: s3Error = S3Error(.internalError)
        }
        if s3Error.code == .internalError {
            logger.error("internal error", metadata: ["request-id": "\(context.requestID)", "error": "\(error)"])
        }
        let resource = "/" + [bucket, key].compactMap { $0 }.joined(separator: "/")
        return s3Error.response(resource: resource, requestID: context.requestID, hostID: hostID, isHead: context.method == .head)
    }

    /// Adds the headers every S3 response carries.
    private func finish(_ response: S3Response, requestID: String) -> S3Response {
        var response = response
        response.headers[.amzRequestID] = requestID
        response.headers[.amzID2] = hostID
        response.headers[.date] = HTTPDate.rfc1123(Date())
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
