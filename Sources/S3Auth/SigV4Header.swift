import Foundation

extension RequestAuthenticator {
    /// Verifies `Authorization: AWS4-HMAC-SHA256 ...`:
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
    func authenticateV4Header(
        _ request: HTTPRequestParts, parameters: Substring, now: Date
    ) throws(AuthFailure) -> VerifiedRequest {
        let header = try SigV4AuthorizationHeader(parameters: parameters)
        let credential: SigV4Credential
        switch SigV4Credential.parse(header.credential, expectedRegion: region, services: services) {
        case .success(let parsed): credential = parsed
        case .failure(let problem): throw SigV4Credential.headerFailure(problem, expectedRegion: region)
        }
        let time = try requestTime(request)
        let amzDate = AWSDate.iso8601Basic(time.date)
        guard amzDate.hasPrefix(credential.date) else {
            throw SigV4Credential.headerFailure(
                .dateMismatch(credentialDate: credential.date, requestDate: String(amzDate.prefix(8))),
                expectedRegion: region)
        }
        try SigV4.requireHostSigned(header.signedHeaders)
        let found = try self.credential(for: credential.accessKey)
        let secret = found.secretKey
        try checkSkew(requestTime: time.text, date: time.date, now: now)
        // Query-API signers (IAM, STS) cover the body without naming its hash in a header.
        let bodyHash = credential.service == SigV4.service ? nil : request.bodySHA256
        guard let contentSHA256 = request.value(of: "x-amz-content-sha256") ?? bodyHash else {
            throw .missingContentSHA256
        }

        let signingKey = SigV4.signingKey(secretKey: secret, date: credential.date, region: credential.region, service: credential.service)
        let scope = SigV4.scope(date: credential.date, region: credential.region, service: credential.service)
        let chunkSigning = ChunkSigningContext(
            signingKey: signingKey, amzDate: amzDate, scope: scope, seedSignature: header.signature)
        // The value is validated before the signature, as S3 does: a bad one is InvalidArgument.
        let payload = try PayloadMode.verification(for: contentSHA256, request: request, signing: chunkSigning)

        let signed = SigV4SignedRequest(
            request: request, query: QueryParameters(rawQuery: request.rawQuery), excludedQueryParameter: nil,
            signedHeaders: header.signedHeaders, payloadHashes: [contentSHA256], accessKey: credential.accessKey,
            amzDate: amzDate, scope: scope, providedSignature: header.signature)
        _ = try SigV4.verify(signed, signingKey: signingKey)
        return VerifiedRequest(
            accessKey: credential.accessKey, caller: found.caller, signatureVersion: .v4, payload: payload, isPresigned: false,
            service: credential.service)
    }
}
