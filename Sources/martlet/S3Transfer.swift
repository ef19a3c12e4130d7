import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import S3Auth
import S3Wire

/// The few S3 calls `admin import` and `admin export` make, signed with SigV4, over AsyncHTTPClient: bodies
/// sent from memory a part at a time, downloads streamed to disk.
struct S3Transfer: Sendable {
    let client: HTTPClient
    let endpoint: URL
    let host: String
    let signer: SigV4Signer

    init(endpoint: URL, signer: SigV4Signer) {
        self.endpoint = endpoint
        self.signer = signer
        host = endpoint.port.map { "\(endpoint.host ?? ""):\($0)" } ?? (endpoint.host ?? "")
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool = .init(idleTimeout: .seconds(30))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async { try? await client.shutdown() }

    /// A bucket and key prefix from `s3://bucket/prefix`.
    struct Location {
        var bucket: String
        var prefix: String

        init?(_ text: String) {
            guard text.hasPrefix("s3://") else { return nil }
            let rest = text.dropFirst(5)
            let bucket = rest.prefix { $0 != "/" }
            guard !bucket.isEmpty else { return nil }
            self.bucket = String(bucket)
            prefix = String(rest.dropFirst(bucket.count + 1))
        }
    }

    struct Listed: Sendable {
        var key: String
        var size: Int64
        var lastModified: Date
    }

    func request(
        _ method: HTTPMethod, bucket: String, key: String = "", query: [(String, String)] = [],
        headers: [(String, String)] = [], body: [UInt8] = []
    ) async throws -> HTTPClientResponse {
        let rawPath = "/" + Percent.encode(bucket) + (key.isEmpty ? "" : "/" + Percent.encode(key, keepSlash: true))
        let rawQuery = query.map { Percent.encode($0.0) + "=" + Percent.encode($0.1) }.joined(separator: "&")
        var request = HTTPClientRequest(url: endpoint.absoluteString.trimmingSuffix("/") + rawPath + (rawQuery.isEmpty ? "" : "?" + rawQuery))
        request.method = method
        for (name, value) in signer.sign(method: method.rawValue, rawPath: rawPath, rawQuery: rawQuery, host: host, body: body, at: Date()) {
            request.headers.add(name: name, value: value)
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if !body.isEmpty || method == .PUT || method == .POST {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return try await client.execute(request, timeout: .seconds(300))
    }

    /// Sends a request and reads its whole (small) answer, failing on an error status.
    func call(
        _ method: HTTPMethod, bucket: String, key: String = "", query: [(String, String)] = [],
        headers: [(String, String)] = [], body: [UInt8] = []
    ) async throws -> (HTTPClientResponse, [UInt8]) {
        let response = try await request(method, bucket: bucket, key: key, query: query, headers: headers, body: body)
        let answer = Array(buffer: try await response.body.collect(upTo: 16 << 20))
        guard (200..<300).contains(response.status.code) else {
            throw AdminFailure(description: "\(method.rawValue) \(bucket)/\(key): \(response.status.code) \(RemoteAdminClient.errorText(Data(answer)))")
        }
        return (response, answer)
    }

    /// Every object under `prefix`, page by page (ListObjectsV2).
    func list(bucket: String, prefix: String) async throws -> [Listed] {
        var listed: [Listed] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let (_, body) = try await call(.GET, bucket: bucket, query: query.sorted { $0.0 < $1.0 })
            let root = try XMLReader.parse(body, limits: XMLLimits(maxElements: 100_000))
            for entry in root.children("Contents") {
                guard let key = entry.child("Key")?.text, let size = entry.child("Size").flatMap({ Int64($0.text) }),
                      let modified = entry.child("LastModified").flatMap({ try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse($0.text) })
                else { continue }
                listed.append(Listed(key: key, size: size, lastModified: modified))
            }
            token = root.child("IsTruncated")?.text == "true" ? root.child("NextContinuationToken")?.text : nil
        } while token != nil
        return listed
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
