import Digest

/// Everything needed to recompute a SigV4 request signature, from either the Authorization
/// header or presigned query parameters.
struct SigV4SignedRequest {
    var request: HTTPRequestParts
    var query: QueryParameters
    /// X-Amz-Signature for presigned URLs: it cannot sign itself.
    var excludedQueryParameter: String?
    var signedHeaders: [String]
    /// Payload hashes to try, preferred first.
    var payloadHashes: [String]
    var accessKey: String
    var amzDate: String
    var scope: String
    var providedSignature: String
}

extension SigV4 {
    /// Recomputes the signature and returns the payload hash it was made with.
    ///
    /// Clients disagree on a few encodings that do not change the request's meaning, so several
    /// canonical forms are tried, the standard one first: the strictly re-encoded path and then
    /// the path exactly as sent; a raw '+' in the query as a space and then as a plus; each
    /// candidate payload hash. Alternatives are computed only when the preferred form fails.
    static func verify(_ signed: SigV4SignedRequest, signingKey: [UInt8]) throws(AuthFailure) -> String {
        let headers = canonicalHeaders(signed.request, signedHeaders: signed.signedHeaders)
        let strictURI = canonicalURI(rawPath: signed.request.rawPath)
        let wireURI = signed.request.rawPath.isEmpty ? "/" : signed.request.rawPath
        let uris = strictURI == wireURI ? [strictURI] : [strictURI, wireURI]
        let plusReadings = signed.request.rawQuery.utf8.contains(UInt8(ascii: "+")) ? [true, false] : [true]
        let provided = Array(signed.providedSignature.utf8)

        var firstAttempt: (canonicalRequest: String, stringToSign: String)?
        for payloadHash in signed.payloadHashes {
            for plusAsSpace in plusReadings {
                let query = canonicalQuery(signed.query, excluding: signed.excludedQueryParameter, plusAsSpace: plusAsSpace)
                for uri in uris {
                    let request = canonicalRequest(
                        method: signed.request.method, uri: uri, query: query, headers: headers,
                        signedHeaders: signed.signedHeaders, payloadHash: payloadHash)
                    let toSign = stringToSign(amzDate: signed.amzDate, scope: signed.scope, canonicalRequest: request)
                    let expected = signature(signingKey: signingKey, stringToSign: toSign)
                    if constantTimeEquals(Array(expected.utf8), provided) {
                        return payloadHash
                    }
                    if firstAttempt == nil { firstAttempt = (request, toSign) }
                }
            }
        }
        let attempt = firstAttempt ?? ("", "")
        throw .signatureMismatch(details: [
            ("AWSAccessKeyId", signed.accessKey),
            ("StringToSign", attempt.stringToSign),
            ("SignatureProvided", signed.providedSignature),
            ("StringToSignBytes", spacedHex(attempt.stringToSign)),
            ("CanonicalRequest", attempt.canonicalRequest),
            ("CanonicalRequestBytes", spacedHex(attempt.canonicalRequest)),
        ])
    }

    /// AWS lists the bytes it signed as space-separated hex pairs.
    static func spacedHex(_ text: String) -> String {
        text.utf8.map { [$0].hexString }.joined(separator: " ")
    }

    /// S3 refuses a signature that does not cover the Host header.
    static func requireHostSigned(_ signedHeaders: [String]) throws(AuthFailure) {
        guard signedHeaders.contains("host") else {
            throw AuthFailure(
                code: .accessDenied, message: "There were headers present in the request which were not signed",
                details: [("HeadersNotSigned", "host")])
        }
    }
}
