import Foundation

/// S3's bucket naming rules for new buckets.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
public enum BucketName {
    public static func validate(_ name: String) throws(S3Error) {
        guard isValid(name) else { throw S3Error(.invalidBucketName, details: [("BucketName", name)]) }
    }

    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        let allowed = bytes.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 }
        guard allowed, isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else { return false }
        guard !name.contains(".."), !name.contains(".-"), !name.contains("-.") else { return false }
        guard !looksLikeIPv4(name) else { return false }
        for reserved in ["xn--", "sthree-", "amzn-s3-demo-"] where name.hasPrefix(reserved) { return false }
        for reserved in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] where name.hasSuffix(reserved) { return false }
        return true
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57)
    }

    private static func looksLikeIPv4(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isNumber) && Int(part)! <= 255
        }
    }
}

/// ETags as clients send them in conditional headers.
public enum ETag {
    /// Strips quotes and a weak `W/` marker.
    public static func unquote(_ value: String) -> String {
        var text = value.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("W/") { text.removeFirst(2) }
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
        return text
    }
}
