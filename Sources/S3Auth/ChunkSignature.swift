import Digest

/// String-to-sign for the signatures inside a signed aws-chunked body.
enum ChunkSignature {
    /// "AWS4-HMAC-SHA256-PAYLOAD\n" + date + "\n" + scope + "\n" + previous + "\n" + hex(sha256("")) + "\n" + hex(sha256(data)):
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
    static func chunk(_ context: ChunkSigningContext, previous: String, dataHash: [UInt8]) -> String {
        let toSign = "AWS4-HMAC-SHA256-PAYLOAD\n" + context.amzDate + "\n" + context.scope + "\n" + previous + "\n"
            + SigV4.emptySHA256 + "\n" + dataHash.hexString
        return SigV4.signature(signingKey: context.signingKey, stringToSign: toSign)
    }

    /// "AWS4-HMAC-SHA256-TRAILER\n" + date + "\n" + scope + "\n" + previous + "\n" + hex(sha256(trailer)),
    /// where the trailer is each "name:value" line followed by "\n":
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
    static func trailer(_ context: ChunkSigningContext, previous: String, canonicalTrailer: String) -> String {
        let toSign = "AWS4-HMAC-SHA256-TRAILER\n" + context.amzDate + "\n" + context.scope + "\n" + previous + "\n"
            + SHA256.hash(canonicalTrailer.utf8).hexString
        return SigV4.signature(signingKey: context.signingKey, stringToSign: toSign)
    }
}
