/// What the verifier needs from the wire request.
public struct HTTPRequestParts: Sendable {
    /// The request method, e.g. "GET".
    public var method: String
    /// The path exactly as on the wire (percent-encoded), without the query. SigV4 signs this path
    /// as sent, for path-style and virtual-hosted-style requests alike.
    public var rawPath: String
    /// For a virtual-hosted-style request ("bucket.example.com/key"), the same path rewritten to
    /// path style ("/bucket/key", still percent-encoded): SigV2's CanonicalizedResource always names
    /// the bucket in the path. Nil: `rawPath` is already path style.
    public var sigV2ResourcePath: String?
    /// The query as on the wire, without "?"; may be "".
    public var rawQuery: String
    /// Header names as received (compared case-insensitively); repeated headers appear repeatedly.
    public var headers: [(name: String, value: String)]

    /// Creates the request parts from the wire values.
    public init(
        method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)],
        sigV2ResourcePath: String? = nil
    ) {
        self.method = method
        self.rawPath = rawPath
        self.sigV2ResourcePath = sigV2ResourcePath
        self.rawQuery = rawQuery
        self.headers = headers
    }

    /// Every value of the header `name` (lowercase), in wire order.
    func values(of name: String) -> [String] {
        headers.compactMap { equalsIgnoringASCIICase($0.name, name) ? $0.value : nil }
    }

    /// The first value of the header `name` (lowercase).
    func value(of name: String) -> String? {
        headers.first { equalsIgnoringASCIICase($0.name, name) }?.value
    }
}

/// Compares `name` with the lowercase `lowered` without allocating.
func equalsIgnoringASCIICase(_ name: String, _ lowered: String) -> Bool {
    guard name.utf8.count == lowered.utf8.count else { return false }
    return zip(name.utf8, lowered.utf8).allSatisfy { a, b in
        (a >= UInt8(ascii: "A") && a <= UInt8(ascii: "Z") ? a | 0x20 : a) == b
    }
}

/// Looks up secret keys by access key id.
public protocol CredentialStore: Sendable {
    /// The secret key of `accessKey`, or nil if there is no such key.
    func secretKey(forAccessKey accessKey: String) -> String?
}

/// A store holding a single key pair.
public struct StaticCredentials: CredentialStore {
    private let accessKey: String
    private let secret: String

    /// A store that knows only `accessKey`, whose secret is `secretKey`.
    public init(accessKey: String, secretKey: String) {
        self.accessKey = accessKey
        self.secret = secretKey
    }

    public func secretKey(forAccessKey accessKey: String) -> String? {
        accessKey == self.accessKey ? secret : nil
    }
}
