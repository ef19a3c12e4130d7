/// Why a request was refused, shaped like the S3 `<Error>` document.
public struct AuthFailure: Error, Sendable, Equatable {
    /// S3 error codes this module produces; the raw value is the <Code> text.
    public enum Code: String, Sendable {
        case accessDenied = "AccessDenied"
        case invalidAccessKeyId = "InvalidAccessKeyId"
        case signatureDoesNotMatch = "SignatureDoesNotMatch"
        case requestTimeTooSkewed = "RequestTimeTooSkewed"
        case authorizationHeaderMalformed = "AuthorizationHeaderMalformed"
        case authorizationQueryParametersError = "AuthorizationQueryParametersError"
        case invalidArgument = "InvalidArgument"
        case invalidRequest = "InvalidRequest"
        case missingSecurityHeader = "MissingSecurityHeader"
        case xAmzContentSHA256Mismatch = "XAmzContentSHA256Mismatch"
        case incompleteBody = "IncompleteBody"
        case malformedTrailerError = "MalformedTrailerError"
        case invalidChunkSizeError = "InvalidChunkSizeError"
        case badDigest = "BadDigest"
        case invalidPolicyDocument = "InvalidPolicyDocument"
    }

    /// The S3 error code (the <Code> element).
    public var code: Code
    /// The human-readable explanation (the <Message> element).
    public var message: String
    /// Extra elements AWS puts in the <Error> XML, in order (e.g. ("AWSAccessKeyId", ...),
    /// ("StringToSign", ...), ("CanonicalRequest", ...), ("Region", expected region) for
    /// AuthorizationHeaderMalformed, ("RequestTime", ...), ("ServerTime", ...),
    /// ("MaxAllowedSkewMilliseconds", "900000")).
    public var details: [(String, String)]

    /// A failure with the given code, message and extra XML elements.
    public init(code: Code, message: String, details: [(String, String)] = []) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// Equal when code, message and every detail pair (in order) are equal.
    public static func == (lhs: AuthFailure, rhs: AuthFailure) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
            && lhs.details.count == rhs.details.count
            && zip(lhs.details, rhs.details).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

// The messages AWS S3 sends for each failure, so clients and tests that match on them behave alike.
extension AuthFailure {
    static func invalidAccessKeyId(_ accessKey: String) -> AuthFailure {
        AuthFailure(
            code: .invalidAccessKeyId,
            message: "The AWS Access Key Id you provided does not exist in our records.",
            details: [("AWSAccessKeyId", accessKey)])
    }

    static func signatureMismatch(details: [(String, String)] = []) -> AuthFailure {
        AuthFailure(
            code: .signatureDoesNotMatch,
            message: "The request signature we calculated does not match the signature you provided."
                + " Check your key and signing method.",
            details: details)
    }

    static func requestTimeTooSkewed(requestTime: String, serverTime: String, maxSkew: Double) -> AuthFailure {
        AuthFailure(
            code: .requestTimeTooSkewed,
            message: "The difference between the request time and the current time is too large.",
            details: [
                ("RequestTime", requestTime), ("ServerTime", serverTime),
                ("MaxAllowedSkewMilliseconds", String(Int64(maxSkew * 1000))),
            ])
    }

    static let missingDate = AuthFailure(
        code: .accessDenied, message: "AWS authentication requires a valid Date or x-amz-date header")

    static func headerMalformed(_ reason: String, details: [(String, String)] = []) -> AuthFailure {
        AuthFailure(
            code: .authorizationHeaderMalformed,
            message: "The authorization header is malformed; " + reason, details: details)
    }

    static func queryParametersError(_ message: String, details: [(String, String)] = []) -> AuthFailure {
        AuthFailure(code: .authorizationQueryParametersError, message: message, details: details)
    }

    static let multipleAuthMechanisms = AuthFailure(
        code: .invalidArgument,
        message: "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query"
            + " string parameter or the Authorization header should be specified",
        details: [("ArgumentName", "Authorization")])

    static func unsupportedAuthorization(_ value: String) -> AuthFailure {
        AuthFailure(
            code: .invalidArgument, message: "Unsupported Authorization Type",
            details: [("ArgumentName", "Authorization"), ("ArgumentValue", value)])
    }

    static let missingContentSHA256 = AuthFailure(
        code: .invalidRequest, message: "Missing required header for this request: x-amz-content-sha256")

    static func invalidContentSHA256(_ value: String) -> AuthFailure {
        AuthFailure(
            code: .invalidArgument,
            message: "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER,"
                + " STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER,"
                + " STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"
                + " or a valid sha256 value.",
            details: [("ArgumentName", "x-amz-content-sha256"), ("ArgumentValue", value)])
    }

    static func expired(details: [(String, String)]) -> AuthFailure {
        AuthFailure(code: .accessDenied, message: "Request has expired", details: details)
    }

    static let notYetValid = AuthFailure(code: .accessDenied, message: "Request is not valid yet")

    static func incompleteBody(_ message: String) -> AuthFailure {
        AuthFailure(code: .incompleteBody, message: message)
    }

    static func malformedTrailer(_ reason: String) -> AuthFailure {
        AuthFailure(
            code: .malformedTrailerError,
            message: "The request contained trailing data that was not well-formed or did not conform to our"
                + " published schema. (\(reason))")
    }
}
