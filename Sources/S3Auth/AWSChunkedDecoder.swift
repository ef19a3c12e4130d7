import Digest
import NIOCore

/// Incremental aws-chunked body decoder
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and sigv4-streaming-trailers.html).
///
/// Wire grammar: `hex-size[;chunk-signature=sig]\r\n data \r\n` repeated, then a zero-size chunk,
/// then for trailers `name:value\r\n` lines (with `x-amz-trailer-signature:sig\r\n` last when signed)
/// and a closing `\r\n`. Accepted variations seen in real clients: bare `\n` line ends, a blank line
/// between the zero-size chunk and the trailers, and a body that ends without the closing blank line.
/// Header and trailer lines are bounded (`maxLineLength`), so nothing is buffered without limit.
public struct AWSChunkedDecoder: Sendable {
    /// The longest chunk header or trailer line accepted, CRLF included.
    static let maxLineLength = 4096
    /// Chunk sizes above this are refused outright (S3's largest single upload is 5 GiB).
    static let maxChunkSize: Int64 = 5 << 30

    enum State: Sendable {
        case chunkHeader
        case chunkData(remaining: Int64)
        /// After a chunk's data: `seen` bytes of its closing CRLF consumed so far.
        case chunkDataEnd(seen: Int)
        case trailers
        case done
    }

    let config: AWSChunkedConfig
    var state: State = .chunkHeader
    /// The partial header or trailer line carried between `decode` calls.
    var line: [UInt8] = []
    var previousSignature: String
    var expectedChunkSignature: String?
    var chunkHash = SHA256()
    var trailers: [String: String] = [:]
    var canonicalTrailer = ""
    var trailerSignatureVerified = false

    /// Decoded payload bytes produced so far.
    public private(set) var decodedByteCount: Int64 = 0

    /// A decoder for a body framed and signed as `config` says.
    public init(config: AWSChunkedConfig) {
        self.config = config
        self.previousSignature = config.signing?.seedSignature ?? ""
    }

    /// Feeds wire bytes (any split: chunk headers, data, CRLFs, trailers may be cut anywhere across
    /// calls). Returns decoded payload bytes available so far (possibly none), as slices of `input`.
    /// A chunk's signature is verified as soon as its data is complete, so this throws no later
    /// than the call that completes a bad chunk: a caller that commits only after `finish()`
    /// never commits one.
    public mutating func decode(_ input: ByteBuffer) throws(AuthFailure) -> [ByteBuffer] {
        var input = input
        var output: [ByteBuffer] = []
        while input.readableBytes > 0 {
            switch state {
            case .chunkHeader:
                if let header = try readLine(&input) {
                    try beginChunk(header)
                }
            case .chunkData(let remaining):
                let count = Int(min(remaining, Int64(input.readableBytes)))
                let slice = input.readSlice(length: count)!
                if config.signing != nil {
                    slice.withUnsafeReadableBytes { chunkHash.update($0) }
                }
                output.append(slice)
                decodedByteCount += Int64(count)
                if remaining == Int64(count) {
                    try endChunkData()
                } else {
                    state = .chunkData(remaining: remaining - Int64(count))
                }
            case .chunkDataEnd(let seen):
                try consumeChunkDataEnd(&input, seen: seen)
            case .trailers:
                if let trailerLine = try readLine(&input) {
                    try handleTrailerLine(trailerLine)
                }
            case .done:
                try consumeAfterEnd(&input)
            }
        }
        return output
    }

    /// At the end of the wire body: throws IncompleteBody if the zero-length final chunk / trailers
    /// are missing or the decoded length differs from x-amz-decoded-content-length; verifies the
    /// trailer signature for signed trailers. Returns the trailing headers (lowercased name ->
    /// value), e.g. ["x-amz-checksum-crc32": "base64"]; the caller checks checksum values.
    public mutating func finish() throws(AuthFailure) -> [String: String] {
        if case .trailers = state {
            // Tolerates a last trailer line, or the closing blank line, cut off by the end of the body.
            if !line.isEmpty {
                let last = line
                line = []
                try handleTrailerLine(Self.stripLineEnd(last))
            }
            if case .trailers = state {
                try completeTrailers()
            }
        }
        guard case .done = state else {
            throw .incompleteBody("The aws-chunked body ended before its final zero-length chunk.")
        }
        if let declared = config.decodedContentLength, declared != decodedByteCount {
            throw .incompleteBody(
                "The aws-chunked body decoded to \(decodedByteCount) bytes, but x-amz-decoded-content-length is \(declared).")
        }
        return trailers
    }
}
