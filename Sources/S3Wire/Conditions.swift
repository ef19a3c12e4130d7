import Foundation

/// GET/HEAD conditional headers, evaluated with AWS's precedence:
/// If-Match, else If-Unmodified-Since (412); then If-None-Match, else If-Modified-Since (304).
/// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
public struct Preconditions: Sendable {
    public var ifMatch: String?
    public var ifNoneMatch: String?
    public var ifModifiedSince: Date?
    public var ifUnmodifiedSince: Date?

    public init(ifMatch: String? = nil, ifNoneMatch: String? = nil, ifModifiedSince: Date? = nil, ifUnmodifiedSince: Date? = nil) {
        self.ifMatch = ifMatch
        self.ifNoneMatch = ifNoneMatch
        self.ifModifiedSince = ifModifiedSince
        self.ifUnmodifiedSince = ifUnmodifiedSince
    }

    public enum Outcome: Sendable, Equatable {
        case notModified
    }

    /// Nil to serve the object; `.notModified` for a 304; throws PreconditionFailed for a 412.
    public func evaluate(etag: String, lastModified: Date) throws(S3Error) -> Outcome? {
        // HTTP dates have whole seconds; compare at that precision.
        let modified = lastModified.timeIntervalSince1970.rounded(.down)
        if let ifMatch {
            if !Self.matches(ifMatch, etag: etag) { throw S3Error(.preconditionFailed, details: [("Condition", "If-Match")]) }
        } else if let ifUnmodifiedSince, modified > ifUnmodifiedSince.timeIntervalSince1970 {
            throw S3Error(.preconditionFailed, details: [("Condition", "If-Unmodified-Since")])
        }
        if let ifNoneMatch {
            if Self.matches(ifNoneMatch, etag: etag) { return .notModified }
        } else if let ifModifiedSince, modified <= ifModifiedSince.timeIntervalSince1970 {
            return .notModified
        }
        return nil
    }

    /// Whether an `If-Match`/`If-None-Match` list names this ETag (or is `*`).
    public static func matches(_ header: String, etag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            let value = candidate.trimmingCharacters(in: .whitespaces)
            return value == "*" || ETag.unquote(value) == etag
        }
    }
}

/// A `Range: bytes=...` header resolved against an object's size.
public enum ByteRange {
    /// The byte range to serve, nil to serve the whole object (no header, or one S3 ignores), or InvalidRange.
    public static func parse(_ header: String?, size: Int64) throws(S3Error) -> Range<Int64>? {
        guard let header else { return nil }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes=") else { return nil }
        let spec = trimmed.dropFirst("bytes=".count)
        // Several ranges in one request are not supported by S3: it serves the whole object.
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        let unsatisfiable = S3Error(.invalidRange, details: [("RangeRequested", trimmed), ("ActualObjectSize", String(size))])
        if first.isEmpty {
            guard let suffix = Int64(last), suffix >= 0 else { return nil }
            guard suffix > 0, size > 0 else { throw unsatisfiable }
            return max(0, size - suffix)..<size
        }
        guard let start = Int64(first), start >= 0 else { return nil }
        var end = size - 1
        if !last.isEmpty {
            guard let parsed = Int64(last), parsed >= start else { return nil }
            end = min(parsed, size - 1)
        }
        guard start < size else { throw unsatisfiable }
        return start..<(end + 1)
    }
}
