import Foundation

/// Verifies S3 request signatures: SigV4 (Authorization header or presigned X-Amz-* query) and
/// SigV2 (Authorization: AWS key:signature, or AWSAccessKeyId/Signature/Expires query).
public struct RequestAuthenticator: Sendable {
    let region: String
    let credentials: any CredentialStore
    let maxClockSkew: TimeInterval
    /// The services a signature may be made for: `s3`, and `iam`/`sts` where the query APIs are served.
    let services: Set<String>

    /// - Parameters:
    ///   - region: the region credential scopes must name (AuthorizationHeaderMalformed otherwise).
    ///   - credentials: where secret keys come from.
    ///   - maxClockSkew: how far, in seconds, a request's time may be from `now` (S3 allows 15 minutes).
    public init(region: String, credentials: any CredentialStore, maxClockSkew: TimeInterval = 900, services: Set<String> = ["s3"]) {
        self.region = region
        self.services = services
        self.credentials = credentials
        self.maxClockSkew = maxClockSkew
    }

    /// Verifies SigV4 (Authorization header or X-Amz-* presigned query) or SigV2 (Authorization:
    /// AWS key:sig, or AWSAccessKeyId/Signature/Expires query). No auth at all -> anonymous
    /// VerifiedRequest (accessKey nil); the API layer decides to deny.
    public func authenticate(_ request: HTTPRequestParts, now: Date) throws(AuthFailure) -> VerifiedRequest {
        let query = QueryParameters(rawQuery: request.rawQuery)
        let isV4Query = query.contains("X-Amz-Algorithm") || query.contains("X-Amz-Credential")
            || query.contains("X-Amz-Signature")
        let isV2Query = query.contains("AWSAccessKeyId") || query.contains("Signature")
        let authorization = request.value(of: "authorization")

        if let authorization {
            guard !isV4Query, !isV2Query else { throw .multipleAuthMechanisms }
            return try authenticateHeader(request, authorization: authorization, now: now)
        }
        switch (isV4Query, isV2Query) {
        case (true, true):
            throw .multipleAuthMechanisms
        case (true, false):
            return try authenticateV4Presigned(request, query: query, now: now)
        case (false, true):
            return try authenticateV2Query(request, query: query, now: now)
        case (false, false):
            return VerifiedRequest(
                accessKey: nil, caller: .anonymous, signatureVersion: .anonymous,
                payload: try PayloadMode.unsignedVerification(for: request), isPresigned: false)
        }
    }

    private func authenticateHeader(
        _ request: HTTPRequestParts, authorization: String, now: Date
    ) throws(AuthFailure) -> VerifiedRequest {
        let trimmed = authorization[...].trimmingSpaces
        if trimmed.hasPrefix(SigV4.algorithm + " ") {
            return try authenticateV4Header(request, parameters: trimmed.dropFirst(SigV4.algorithm.count + 1), now: now)
        }
        if trimmed.hasPrefix("AWS ") {
            return try authenticateV2Header(request, credential: trimmed.dropFirst(4), now: now)
        }
        throw .unsupportedAuthorization(authorization)
    }

    /// The request time from x-amz-date, else Date: the raw text (for error details) and its value.
    func requestTime(_ request: HTTPRequestParts) throws(AuthFailure) -> (text: String, date: Date) {
        if let text = request.value(of: "x-amz-date") {
            guard let date = AWSDate.parseAny(text) else { throw .missingDate }
            return (text, date)
        }
        if let text = request.value(of: "date"), let date = AWSDate.parseAny(text) {
            return (text, date)
        }
        throw .missingDate
    }

    /// RequestTimeTooSkewed when `date` is further than maxClockSkew from `now`, either way.
    func checkSkew(requestTime: String, date: Date, now: Date) throws(AuthFailure) {
        guard abs(date.timeIntervalSince(now)) <= maxClockSkew else {
            throw .requestTimeTooSkewed(
                requestTime: requestTime, serverTime: AWSDate.iso8601Extended(now), maxSkew: maxClockSkew)
        }
    }

    func credential(for accessKey: String) throws(AuthFailure) -> Credential {
        switch credentials.credential(forAccessKey: accessKey) {
        case .valid(let credential): return credential
        case .unknown: throw .invalidAccessKeyId(accessKey)
        case .accountDisabled: throw AuthFailure(code: .accessDenied, message: "The account this access key belongs to is disabled.")
        }
    }
}
