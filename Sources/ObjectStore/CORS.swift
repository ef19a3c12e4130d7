/// One rule of a bucket's CORS configuration.
public struct CORSRule: Sendable, Codable, Equatable {
    public var id: String?
    public var allowedOrigins: [String]
    /// GET, PUT, POST, DELETE or HEAD.
    public var allowedMethods: [String]
    public var allowedHeaders: [String]
    public var exposeHeaders: [String]
    public var maxAgeSeconds: Int?

    public init(
        id: String? = nil, allowedOrigins: [String], allowedMethods: [String], allowedHeaders: [String] = [],
        exposeHeaders: [String] = [], maxAgeSeconds: Int? = nil
    ) {
        self.id = id
        self.allowedOrigins = allowedOrigins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAgeSeconds = maxAgeSeconds
    }

    /// Whether the rule lets `origin` use `method`, sending `headers` (lower-cased names): origins and headers may
    /// hold one `*` standing for any run of characters; headers compare without regard to case.
    public func allows(origin: String, method: String, headers: [String]) -> Bool {
        guard allowedMethods.contains(method), allowedOrigins.contains(where: { Self.glob($0, origin) }) else { return false }
        return headers.allSatisfy { header in allowedHeaders.contains { Self.glob($0.lowercased(), header.lowercased()) } }
    }

    /// The origin to answer with: `*` when the rule allows every origin that way.
    public func allowOrigin(for origin: String) -> String {
        allowedOrigins.contains("*") ? "*" : origin
    }

    /// `pattern` with at most one `*` against the whole of `text`.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else { return pattern == text }
        let prefix = pattern[..<star]
        let suffix = pattern[pattern.index(after: star)...]
        return text.count >= prefix.count + suffix.count && text.hasPrefix(prefix) && text.hasSuffix(suffix)
    }
}
