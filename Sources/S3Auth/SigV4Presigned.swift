import Foundation

extension RequestAuthenticator {
    private static let presignedParameters = [
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires",
    ]
    private static let maxPresignedExpiry = 604_800

    /// Verifies a presigned URL (X-Amz-* query parameters):
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
    func authenticateV4Presigned(
        _ request: HTTPRequestParts, query: QueryParameters, now: Date
    ) throws(AuthFailure) -> VerifiedRequest {
        let values = Self.presignedParameters.map { query.value(of: $0) }
        guard let algorithm = values[0], let rawCredential = values[1], let rawSignature = values[2],
            let rawDate = values[3], let rawSignedHeaders = values[4], let rawExpires = values[5]
        else {
            throw .queryParametersError(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential,"
                    + " X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
        }
        guard algorithm == SigV4.algorithm else {
            throw .queryParametersError("X-Amz-Algorithm only supports \"\(SigV4.algorithm)\"")
        }
        let credential: SigV4Credential
        switch SigV4Credential.parse(rawCredential, expectedRegion: region) {
        case .success(let parsed): credential = parsed
        case .failure(let problem): throw SigV4Credential.queryFailure(problem, expectedRegion: region)
        }
        guard let date = AWSDate.parseISO8601Basic(rawDate) else {
            throw .queryParametersError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        }
        guard rawDate.hasPrefix(credential.date) else {
            throw SigV4Credential.queryFailure(
                .dateMismatch(credentialDate: credential.date, requestDate: String(rawDate.prefix(8))),
                expectedRegion: region)
        }
        let expires = try Self.parseExpires(rawExpires)
        let signedHeaders = SigV4AuthorizationHeader.splitSignedHeaders(rawSignedHeaders)
        try SigV4.requireHostSigned(signedHeaders)
        let found = try self.credential(for: credential.accessKey)
        let secret = found.secretKey
        try checkValidity(date: date, expires: expires, rawExpires: rawExpires, now: now)

        let signature = asciiLowercased(rawSignature)
        let signingKey = SigV4.signingKey(secretKey: secret, date: credential.date, region: region)
        let scope = SigV4.scope(date: credential.date, region: region)
        let signed = SigV4SignedRequest(
            request: request, query: query, excludedQueryParameter: "X-Amz-Signature", signedHeaders: signedHeaders,
            payloadHashes: Self.presignedPayloadHashes(request, query: query), accessKey: credential.accessKey,
            amzDate: rawDate, scope: scope, providedSignature: signature)
        let payloadHash = try SigV4.verify(signed, signingKey: signingKey)

        let payload: PayloadVerification
        if payloadHash == PayloadMode.unsigned {
            payload = try PayloadMode.unsignedVerification(for: request)
        } else {
            let chunkSigning = ChunkSigningContext(
                signingKey: signingKey, amzDate: rawDate, scope: scope, seedSignature: signature)
            payload = try PayloadMode.verification(for: payloadHash, request: request, signing: chunkSigning)
        }
        return VerifiedRequest(
            accessKey: credential.accessKey, caller: found.caller, signatureVersion: .v4, payload: payload, isPresigned: true)
    }

    private static func parseExpires(_ raw: String) throws(AuthFailure) -> Int {
        guard let expires = Int(raw) else {
            throw .queryParametersError("X-Amz-Expires should be a number")
        }
        guard expires >= 0 else {
            throw .queryParametersError("X-Amz-Expires must be non-negative")
        }
        guard expires <= maxPresignedExpiry else {
            throw .queryParametersError("X-Amz-Expires must be less than a week (in seconds) that is; 604800")
        }
        return expires
    }

    /// A presigned URL is valid from its X-Amz-Date (less the allowed clock skew) until
    /// X-Amz-Date + X-Amz-Expires; X-Amz-Expires=0 leaves only the signing second itself.
    private func checkValidity(date: Date, expires: Int, rawExpires: String, now: Date) throws(AuthFailure) {
        guard date.timeIntervalSince(now) <= maxClockSkew else {
            throw .notYetValid
        }
        let expiry = date.addingTimeInterval(TimeInterval(expires))
        guard now <= expiry else {
            throw .expired(details: [
                ("X-Amz-Expires", rawExpires), ("Expires", AWSDate.iso8601Extended(expiry)),
                ("ServerTime", AWSDate.iso8601Extended(now)),
            ])
        }
    }

    /// The payload hash a presigner used: X-Amz-Content-Sha256 in the query if present; else the
    /// header's value if sent, falling back to UNSIGNED-PAYLOAD (presigners that do not sign the
    /// body, while the client using the URL adds the header); else UNSIGNED-PAYLOAD.
    private static func presignedPayloadHashes(_ request: HTTPRequestParts, query: QueryParameters) -> [String] {
        if let fromQuery = query.value(of: "X-Amz-Content-Sha256") {
            return [fromQuery]
        }
        if let fromHeader = request.value(of: "x-amz-content-sha256"), fromHeader != PayloadMode.unsigned {
            return [fromHeader, PayloadMode.unsigned]
        }
        return [PayloadMode.unsigned]
    }
}
