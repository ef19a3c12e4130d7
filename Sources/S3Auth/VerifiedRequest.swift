/// What chunk and trailer signatures of a signed aws-chunked body are chained from:
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
public struct ChunkSigningContext: Sendable {
    /// The SigV4 signing key derived for the request's date, region and service.
    public var signingKey: [UInt8]
    /// The request timestamp, "yyyyMMdd'T'HHmmss'Z'".
    public var amzDate: String
    /// The credential scope, "date/region/s3/aws4_request".
    public var scope: String
    /// The request's own signature (lowercase hex): the first chunk signature chains from it.
    public var seedSignature: String

    /// A context with the given key, timestamp, scope and seed signature.
    public init(signingKey: [UInt8], amzDate: String, scope: String, seedSignature: String) {
        self.signingKey = signingKey
        self.amzDate = amzDate
        self.scope = scope
        self.seedSignature = seedSignature
    }
}

/// How an aws-chunked body is framed and signed.
public struct AWSChunkedConfig: Sendable {
    /// Nil: unsigned chunks (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
    public var signing: ChunkSigningContext?
    /// Lowercased names announced by x-amz-trailer (e.g. ["x-amz-checksum-crc32"]).
    public var trailerNames: [String]
    /// True for STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the trailer carries x-amz-trailer-signature.
    public var signedTrailer: Bool
    /// x-amz-decoded-content-length, when the request sent it.
    public var decodedContentLength: Int64?

    /// A configuration with the given signing, trailers and decoded length.
    public init(
        signing: ChunkSigningContext?, trailerNames: [String], signedTrailer: Bool, decodedContentLength: Int64?
    ) {
        self.signing = signing
        self.trailerNames = trailerNames
        self.signedTrailer = signedTrailer
        self.decodedContentLength = decodedContentLength
    }
}

/// What the API layer must still check about the body.
public enum PayloadVerification: Sendable {
    /// Nothing to check: UNSIGNED-PAYLOAD, presigned URLs, SigV2, anonymous.
    case unsigned
    /// A literal x-amz-content-sha256 (lowercase hex): the API layer hashes the body and compares
    /// (XAmzContentSHA256Mismatch on a difference).
    case sha256(hex: String)
    /// An aws-chunked body (STREAMING-* modes): decode it with `AWSChunkedDecoder(config:)`.
    case chunked(AWSChunkedConfig)
}

/// How the request was authenticated.
public enum SignatureVersion: Sendable {
    /// No signature at all.
    case anonymous
    /// AWS Signature Version 2 (HMAC-SHA1).
    case v2
    /// AWS Signature Version 4 (HMAC-SHA256).
    case v4
}

/// A request whose signature (if any) has been verified.
public struct VerifiedRequest: Sendable {
    /// The signer's access key; nil for an anonymous request.
    public var accessKey: String?
    /// Whose key signed it: an account root, an IAM user, or nobody.
    public var caller: Caller
    /// The service the signature was made for (`s3`, or `iam`/`sts` for the query APIs); SigV4 only.
    public var service: String
    /// Which scheme signed the request.
    public var signatureVersion: SignatureVersion
    /// What the API layer must still check about the body.
    public var payload: PayloadVerification
    /// True when the signature came in the query string (presigned URL, SigV2 or SigV4).
    public var isPresigned: Bool

    /// A verified request with the given identity, scheme and payload rule.
    public init(
        accessKey: String?, caller: Caller, signatureVersion: SignatureVersion, payload: PayloadVerification, isPresigned: Bool,
        service: String = "s3"
    ) {
        self.accessKey = accessKey
        self.caller = caller
        self.service = service
        self.signatureVersion = signatureVersion
        self.payload = payload
        self.isPresigned = isPresigned
    }
}
