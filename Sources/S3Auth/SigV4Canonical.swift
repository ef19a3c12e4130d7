import Digest

/// The SigV4 signing steps, one function each, as the S3 documentation lays them out:
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
enum SigV4 {
    static let algorithm = "AWS4-HMAC-SHA256"
    static let service = "s3"
    static let terminator = "aws4_request"
    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// CanonicalURI: the path URI-encoded once, '/' kept, no dot-segment normalisation (S3 only).
    /// Computed from the wire path by decoding each '/'-separated segment and encoding it again
    /// strictly, so clients that under- or over-escape on the wire still agree with one that signs
    /// the strict form, and an escaped slash (%2F) inside a segment stays escaped.
    static func canonicalURI(rawPath: String) -> String {
        guard !rawPath.isEmpty else { return "/" }
        return rawPath.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            PercentEncoding.encode(PercentEncoding.decode(segment, plusAsSpace: false), keepSlash: false)
        }.joined(separator: "/")
    }

    /// CanonicalQueryString: each name and value decoded then strictly encoded, sorted by name
    /// then value, "name=value" joined with '&' ("name=" for a valueless item). `excluding`
    /// drops a parameter (X-Amz-Signature for presigned URLs). `plusAsSpace` chooses how a raw
    /// '+' is read: form-encoding says a space, but some clients mean a literal plus.
    static func canonicalQuery(_ query: QueryParameters, excluding: String? = nil, plusAsSpace: Bool = true) -> String {
        var pairs: [(name: String, value: String)] = []
        pairs.reserveCapacity(query.items.count)
        for item in query.items {
            let name = PercentEncoding.decode(item.rawName, plusAsSpace: plusAsSpace)
            if let excluding, name.elementsEqual(excluding.utf8) { continue }
            let value = PercentEncoding.decode(item.rawValue ?? "", plusAsSpace: plusAsSpace)
            pairs.append((PercentEncoding.encode(name, keepSlash: false), PercentEncoding.encode(value, keepSlash: false)))
        }
        // Encoded names and values are ASCII, so String ordering is byte ordering here.
        pairs.sort { $0.name != $1.name ? $0.name < $1.name : $0.value < $1.value }
        return pairs.map { $0.name + "=" + $0.value }.joined(separator: "&")
    }

    /// CanonicalHeaders: "name:value\n" per signed header, in the order of SignedHeaders; values
    /// trimmed with inner runs of spaces and tabs collapsed; repeated headers joined with ','.
    static func canonicalHeaders(_ request: HTTPRequestParts, signedHeaders: [String]) -> String {
        var result = ""
        for name in signedHeaders {
            let values = request.values(of: name).map(trimAll)
            result += name + ":" + values.joined(separator: ",") + "\n"
        }
        return result
    }

    /// Trimall: strips leading and trailing whitespace and collapses inner runs to one space.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// CanonicalRequest = Method \n URI \n Query \n Headers \n SignedHeaders \n HashedPayload.
    static func canonicalRequest(
        method: String, uri: String, query: String, headers: String, signedHeaders: [String], payloadHash: String
    ) -> String {
        [method, uri, query, headers, signedHeaders.joined(separator: ";"), payloadHash].joined(separator: "\n")
    }

    /// StringToSign = Algorithm \n Timestamp \n Scope \n Hex(SHA256(CanonicalRequest)).
    static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        [algorithm, amzDate, scope, SHA256.hash(canonicalRequest.utf8).hexString].joined(separator: "\n")
    }

    /// The signing key, from ``signingKeys`` when this scope was seen before.
    static func signingKey(secretKey: String, date: String, region: String, service: String = service) -> [UInt8] {
        signingKeys.key(secretKey: secretKey, date: date, region: region, service: service)
    }

    /// A key changes once a day per secret, region and service, and costs four HMACs (each an OpenSSL context set
    /// up and torn down): every request of the day after the first reuses it.
    private static let signingKeys = SigningKeyCache()

    /// SigningKey = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "s3"), "aws4_request").
    static func deriveSigningKey(secretKey: String, date: String, region: String, service: String) -> [UInt8] {
        let dateKey = HMAC.sha256(key: Array(("AWS4" + secretKey).utf8), message: date.utf8)
        let regionKey = HMAC.sha256(key: dateKey, message: region.utf8)
        let serviceKey = HMAC.sha256(key: regionKey, message: service.utf8)
        return HMAC.sha256(key: serviceKey, message: terminator.utf8)
    }

    /// Signature = Hex(HMAC(SigningKey, StringToSign)).
    static func signature(signingKey: [UInt8], stringToSign: String) -> String {
        HMAC.sha256(key: signingKey, message: stringToSign.utf8).hexString
    }

    /// "date/region/s3/aws4_request"
    static func scope(date: String, region: String, service: String = service) -> String {
        [date, region, service, terminator].joined(separator: "/")
    }
}

/// Compares two signatures in time independent of where they differ.
func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) {
        difference |= x ^ y
    }
    return difference == 0
}

/// Lowercases ASCII letters only (signatures may arrive in uppercase hex).
func asciiLowercased(_ text: String) -> String {
    String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }, as: UTF8.self)
}
