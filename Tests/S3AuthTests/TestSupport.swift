import Foundation
import NIOCore
import S3Auth
import Testing

/// The example credentials AWS's signing documentation uses (and the botocore fixtures reuse).
enum Example {
    static let accessKey = "AKIAIOSFODNN7EXAMPLE"
    static let secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let credentials = StaticCredentials(accessKey: accessKey, secretKey: secretKey)
    /// 2013-05-24T00:00:00Z, the time of every AWS documentation example.
    static let awsDocTime = Date(timeIntervalSince1970: 1_369_353_600)
    /// 2026-11-20T12:34:56Z, the frozen clock the botocore fixtures were generated with.
    static let botocoreTime = Date(timeIntervalSince1970: 1_795_178_096)
    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    static func authenticator(region: String = "us-east-1") -> RequestAuthenticator {
        RequestAuthenticator(region: region, credentials: credentials)
    }
}

/// A captured request: what a client put on the wire.
struct Fixture: CustomTestStringConvertible, Sendable {
    var name: String = ""
    var method: String
    var path: String
    var query: String
    var headers: [(String, String)]
    var body: String = ""

    var parts: HTTPRequestParts {
        HTTPRequestParts(method: method, rawPath: path, rawQuery: query, headers: headers.map { (name: $0.0, value: $0.1) })
    }

    var testDescription: String { name.isEmpty ? "\(method) \(path)?\(query)" : name }

    /// The same request with one header's value replaced (or added).
    func replacing(header: String, with value: String) -> Fixture {
        var copy = self
        copy.headers.removeAll { $0.0.lowercased() == header.lowercased() }
        copy.headers.append((header, value))
        return copy
    }

    /// Splits a presigned URL's path and query.
    init(name: String = "", method: String, url: String, headers: [(String, String)]) {
        let afterHost = url.drop { $0 != "/" }.dropFirst(2).drop { $0 != "/" }
        let pieces = afterHost.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.init(
            name: name, method: method, path: String(pieces[0]), query: pieces.count > 1 ? String(pieces[1]) : "",
            headers: headers)
    }

    init(name: String = "", method: String, path: String, query: String, headers: [(String, String)], body: String = "") {
        self.name = name
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// A small deterministic generator, so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension AWSChunkedDecoder {
    /// Feeds `wire` in pieces of the given sizes (the last piece takes the rest), then finishes.
    mutating func decodeAll(_ wire: [UInt8], pieces: [Int]) throws(AuthFailure) -> (body: [UInt8], trailers: [String: String]) {
        var body: [UInt8] = []
        var offset = 0
        var sizes = pieces[...]
        while offset < wire.count {
            let size = sizes.popFirst() ?? wire.count
            let end = min(wire.count, offset + max(1, size))
            for slice in try decode(ByteBuffer(bytes: wire[offset..<end])) {
                body.append(contentsOf: slice.readableBytesView)
            }
            offset = end
        }
        return (body, try finish())
    }
}

/// Returns the failure `body` throws, or nil if it succeeds.
func failure<T>(_ body: () throws(AuthFailure) -> T) -> AuthFailure? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
