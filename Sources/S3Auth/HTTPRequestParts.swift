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
    /// The body's SHA-256 (lowercase hex), for query-API requests (IAM, STS) whose body was read before
    /// authentication: their signers cover the body without sending `x-amz-content-sha256`.
    public var bodySHA256: String?

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

/// An access key's secret and whose key it is.
public struct Credential: Sendable {
    public var secretKey: String
    public var caller: Caller

    public init(secretKey: String, caller: Caller) {
        self.secretKey = secretKey
        self.caller = caller
    }
}

/// What a credential store knows about an access key id.
public enum CredentialLookup: Sendable {
    case valid(Credential)
    /// No such key, or a key made inactive: AWS answers both alike.
    case unknown
    /// The key's account is disabled.
    case accountDisabled
}

/// Looks up secret keys by access key id. Called on every signed request: must answer from memory or one
/// index lookup, and must see a key's deactivation at once.
public protocol CredentialStore: Sendable {
    func credential(forAccessKey accessKey: String) -> CredentialLookup
}

/// A store holding a single key pair, an account's root.
public struct StaticCredentials: CredentialStore {
    private let accessKey: String
    private let credential: Credential

    /// A store that knows only `accessKey`, whose secret is `secretKey`.
    public init(accessKey: String, secretKey: String, account: AccountIdentity = .example) {
        self.accessKey = accessKey
        self.credential = Credential(secretKey: secretKey, caller: .root(account))
    }

    public func credential(forAccessKey accessKey: String) -> CredentialLookup {
        accessKey == self.accessKey ? .valid(credential) : .unknown
    }
}

extension AccountIdentity {
    /// AWS's documentation account.
    public static let example = AccountIdentity(
        id: "123456789012", canonicalID: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be")
}
