import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// Where events go: a target configured on the server, named in bucket configurations by its ARN.
public struct TargetSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case webhook
        case redis
    }

    public var id: String
    public var kind: Kind
    public var url: String
    /// Webhooks: the `Authorization` header's value sent with each event.
    public var authorization: String?
    /// Seconds one delivery may take.
    public var timeout: Double
    /// Webhooks over HTTPS: a PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?

    public init(id: String, kind: Kind, url: String, authorization: String? = nil, timeout: Double = 10, caFile: String? = nil) {
        self.id = id
        self.kind = kind
        self.url = url
        self.authorization = authorization
        self.timeout = timeout
        self.caFile = caFile
    }

    /// As MinIO names its targets: `arn:martlet:sqs:REGION:ID:KIND`.
    public func arn(region: String) -> String { "arn:martlet:sqs:\(region):\(id):\(kind.rawValue)" }

    /// Checks what can be checked before the first event: the id's characters and the URL's form.
    public func validate() throws(TargetError) {
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw TargetError("target id \"\(id)\" must be letters, digits, - and _")
        }
        guard timeout > 0, timeout <= 300 else { throw TargetError("target \(id): timeout must be between 0 and 300 seconds") }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), components.host?.isEmpty == false else {
            throw TargetError("target \(id): \"\(url)\" is not a URL")
        }
        switch kind {
        case .webhook:
            guard scheme == "http" || scheme == "https" else { throw TargetError("target \(id): a webhook URL is http:// or https://") }
        case .redis:
            guard scheme == "redis" else { throw TargetError("target \(id): a Redis URL is redis://[:PASSWORD@]HOST[:PORT][/DB][?stream=NAME]") }
        }
    }
}

public struct TargetError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Sends one event message; throws if the target did not take it.
protocol EventTarget: Sendable {
    func deliver(_ message: [UInt8], sequencer: String) async throws
    func shutdown() async
}

/// Webhooks: an HTTP(S) POST of the JSON message; any 2xx answer is delivery.
final class WebhookTarget: EventTarget {
    let spec: TargetSpec
    private let client: HTTPClient

    init(spec: TargetSpec) throws {
        self.spec = spec
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        if let caFile = spec.caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caFile)
            configuration.tlsConfiguration = tls
        }
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func deliver(_ message: [UInt8], sequencer: String) async throws {
        var request = HTTPClientRequest(url: spec.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Martlet")
        if let authorization = spec.authorization { request.headers.add(name: "Authorization", value: authorization) }
        request.body = .bytes(ByteBuffer(bytes: message))
        let response = try await client.execute(request, timeout: .milliseconds(Int64(spec.timeout * 1000)))
        // Read (and drop) the answer, whatever its size, so the connection goes back to the pool.
        for try await _ in response.body {}
        guard (200..<300).contains(response.status.code) else {
            throw TargetError("webhook answered \(response.status.code)")
        }
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}
