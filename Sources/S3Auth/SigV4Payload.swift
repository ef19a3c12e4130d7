/// What x-amz-content-sha256 says about the body, per
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
enum PayloadMode {
    static let unsigned = "UNSIGNED-PAYLOAD"
    static let streamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    static let streamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    static let streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

    /// Maps a SigV4 request's payload hash to what the body must be checked against.
    static func verification(
        for value: String, request: HTTPRequestParts, signing: ChunkSigningContext
    ) throws(AuthFailure) -> PayloadVerification {
        switch value {
        case unsigned:
            return .unsigned
        case streamingSigned:
            return .chunked(try chunkedConfig(request, signing: signing, signedTrailer: false))
        case streamingSignedTrailer:
            return .chunked(try chunkedConfig(request, signing: signing, signedTrailer: true))
        case streamingUnsignedTrailer:
            return .chunked(try chunkedConfig(request, signing: nil, signedTrailer: false))
        default:
            guard value.utf8.count == 64, value.utf8.allSatisfy(isHexDigit) else {
                throw .invalidContentSHA256(value)
            }
            return .sha256(hex: asciiLowercased(value))
        }
    }

    /// For requests whose body no signature covers (SigV2, anonymous, unsigned presigned): the
    /// body is still aws-chunked framed when the client says so, and must be decoded.
    static func unsignedVerification(for request: HTTPRequestParts) throws(AuthFailure) -> PayloadVerification {
        guard let value = request.value(of: "x-amz-content-sha256") else { return .unsigned }
        switch value {
        case streamingUnsignedTrailer:
            return .chunked(try chunkedConfig(request, signing: nil, signedTrailer: false))
        case streamingSigned, streamingSignedTrailer:
            // Chunk signatures chain from a SigV4 seed signature, which this request does not have.
            throw .invalidContentSHA256(value)
        default:
            return .unsigned
        }
    }

    private static func chunkedConfig(
        _ request: HTTPRequestParts, signing: ChunkSigningContext?, signedTrailer: Bool
    ) throws(AuthFailure) -> AWSChunkedConfig {
        let trailerNames = request.values(of: "x-amz-trailer")
            .flatMap { $0.split(separator: ",") }
            .map { asciiLowercased(String($0.trimmingSpaces)) }
            .filter { !$0.isEmpty }
        var decodedLength: Int64?
        if let raw = request.value(of: "x-amz-decoded-content-length") {
            guard let value = Int64(raw[...].trimmingSpaces), value >= 0 else {
                throw AuthFailure(
                    code: .invalidArgument, message: "x-amz-decoded-content-length must be a non-negative integer",
                    details: [("ArgumentName", "x-amz-decoded-content-length"), ("ArgumentValue", raw)])
            }
            decodedLength = value
        }
        return AWSChunkedConfig(
            signing: signing, trailerNames: trailerNames, signedTrailer: signedTrailer,
            decodedContentLength: decodedLength)
    }
}

func isHexDigit(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
        UInt8(ascii: "A")...UInt8(ascii: "F"):
        true
    default:
        false
    }
}
