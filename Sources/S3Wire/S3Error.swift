import HTTPTypes
import ObjectStore
import S3Auth

/// An S3 error response: a code from the table, a message, and the extra elements AWS adds for some codes.
public struct S3Error: Error, Sendable {
    public var code: S3ErrorCode
    public var message: String
    /// Extra `<Error>` children, in order (e.g. BucketName, Key, Condition).
    public var details: [(String, String)]
    /// Extra response headers (e.g. `x-amz-delete-marker`).
    public var headers: [(String, String)]

    public init(_ code: S3ErrorCode, _ message: String? = nil, details: [(String, String)] = [], headers: [(String, String)] = []) {
        self.code = code
        self.message = message ?? code.defaultMessage
        self.details = details
        self.headers = headers
    }

    public static func noSuchBucket(_ bucket: String) -> S3Error {
        S3Error(.noSuchBucket, details: [("BucketName", bucket)])
    }

    public static func noSuchKey(_ key: String) -> S3Error {
        S3Error(.noSuchKey, details: [("Key", key)])
    }
}

extension S3Error {
    /// The one place storage errors become S3 errors.
    public static func from(_ error: StoreError, bucket: String?, key: String?) -> S3Error {
        switch error {
        case .noSuchBucket: .noSuchBucket(bucket ?? "")
        case .bucketAlreadyExists: S3Error(.bucketAlreadyOwnedByYou, details: [("BucketName", bucket ?? "")])
        case .bucketNotEmpty: S3Error(.bucketNotEmpty, details: [("BucketName", bucket ?? "")])
        case .noSuchKey: .noSuchKey(key ?? "")
        case .preconditionFailed: S3Error(.preconditionFailed, details: [("Condition", "If-Match")])
        case .noSuchUpload: S3Error(.noSuchUpload)
        case .objectLocked: S3Error(.accessDenied, "Access Denied because object protected by object lock.")
        case .invalidBucketState: S3Error(.invalidBucketState)
        case .blobMissing, .ioFailure, .sourceChanged, .integrityFailure: S3Error(.internalError)
        case .keyAlreadyExists: S3Error(.invalidArgument, "A key with that alias exists.")
        case .insufficientStorage:
            S3Error(.serviceUnavailable, "The server has no room to store this request's data. Retry once space has been freed.")
        case .unavailable:
            S3Error(.serviceUnavailable, "The server cannot reach its index database. Retry shortly.")
        }
    }

    /// A request body that ended badly: always the client's doing.
    public static func from(_ error: BodyStreamError) -> S3Error {
        switch error {
        case .stalled: S3Error(.requestTimeout, "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")
        case .truncated: S3Error(.incompleteBody)
        case .malformedFraming: S3Error(.badRequest, "The chunked transfer coding of the request body is malformed.")
        }
    }

    /// The one place authentication failures become S3 errors.
    public static func from(_ failure: AuthFailure) -> S3Error {
        let code = S3ErrorCode(rawValue: failure.code.rawValue) ?? .accessDenied
        return S3Error(code, failure.message, details: failure.details)
    }
}
