/// Which bucket and key a request addresses, from its Host header and path (path-style or virtual-hosted).
public struct RequestTarget: Sendable, Equatable {
    public var bucket: String?
    /// The decoded key; nil for service and bucket requests.
    public var key: String?
    /// The wire path as if the request were path-style (`/bucket/key`), which SigV2 signs.
    public var pathStyleRawPath: String

    /// - Parameters:
    ///   - rawPath: the request path as received, percent-encoded, without the query.
    ///   - host: the Host header.
    ///   - domain: the server's domain for virtual-hosted-style requests (`bucket.domain`), if any.
    public init(rawPath: String, host: String?, domain: String?) throws(S3Error) {
        guard rawPath.hasPrefix("/") else { throw S3Error(.invalidArgument, "Couldn't parse the specified URI.") }
        let hostName = host.map(RequestTarget.stripPort)?.lowercased()
        if let domain, let hostName, hostName.count > domain.count + 1, hostName.hasSuffix("." + domain.lowercased()) {
            bucket = String(hostName.dropLast(domain.count + 1))
            key = try RequestTarget.decodeKey(rawPath.dropFirst())
            pathStyleRawPath = "/" + bucket! + rawPath
            return
        }
        pathStyleRawPath = rawPath
        let trimmed = rawPath.dropFirst()
        guard !trimmed.isEmpty else { return }
        if let slash = trimmed.firstIndex(of: "/") {
            bucket = try RequestTarget.decodeComponent(trimmed[..<slash])
            key = try RequestTarget.decodeKey(trimmed[trimmed.index(after: slash)...])
        } else {
            bucket = try RequestTarget.decodeComponent(trimmed)
        }
    }

    private static func decodeKey(_ raw: Substring) throws(S3Error) -> String? {
        raw.isEmpty ? nil : try decodeComponent(raw)
    }

    private static func decodeComponent(_ raw: Substring) throws(S3Error) -> String {
        // In a path `+` is a literal plus; only %XX escapes are decoded.
        guard let decoded = Percent.decode(raw, plusIsSpace: false) else {
            throw S3Error(.invalidArgument, "Couldn't parse the specified URI.")
        }
        return decoded
    }

    private static func stripPort(_ host: String) -> String {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            return String(host[...close])
        }
        if let colon = host.lastIndex(of: ":") { return String(host[..<colon]) }
        return host
    }
}
