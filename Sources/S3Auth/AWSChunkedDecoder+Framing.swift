import Digest
import NIOCore

extension AWSChunkedDecoder {
    /// Takes bytes up to and including the next '\n', carrying a partial line across calls.
    /// Returns the line without its line end, or nil if the line is not complete yet.
    mutating func readLine(_ input: inout ByteBuffer) throws(AuthFailure) -> [UInt8]? {
        let newline = input.withUnsafeReadableBytes { $0.firstIndex(of: UInt8(ascii: "\n")) }
        let take = newline.map { $0 + 1 } ?? input.readableBytes
        guard line.count + take <= Self.maxLineLength else {
            if case .trailers = state {
                throw .malformedTrailer("a trailer line is longer than \(Self.maxLineLength) bytes")
            }
            throw .incompleteBody("An aws-chunked chunk header is longer than \(Self.maxLineLength) bytes.")
        }
        line.append(contentsOf: input.readBytes(length: take)!)
        guard newline != nil else { return nil }
        let complete = Self.stripLineEnd(line)
        line = []
        return complete
    }

    /// Drops a trailing "\n" or "\r\n".
    static func stripLineEnd(_ bytes: [UInt8]) -> [UInt8] {
        var result = bytes[...]
        if result.last == UInt8(ascii: "\n") { result.removeLast() }
        if result.last == UInt8(ascii: "\r") { result.removeLast() }
        return Array(result)
    }

    /// Parses `hex-size[;chunk-signature=sig][;other=ext]` and moves to the chunk's data, or to the
    /// trailers after the zero-size chunk.
    mutating func beginChunk(_ header: [UInt8]) throws(AuthFailure) {
        let text = String(decoding: header, as: UTF8.self)
        let parts = text.split(separator: ";", omittingEmptySubsequences: false)
        let sizeText = parts[0].trimmingSpaces
        guard !sizeText.isEmpty, sizeText.utf8.count <= 16, sizeText.utf8.allSatisfy(isHexDigit),
            let size = Int64(sizeText, radix: 16), size <= Self.maxChunkSize
        else {
            throw AuthFailure(code: .invalidChunkSizeError, message: "Invalid chunk size: \"\(text.prefix(64))\"")
        }
        // Subtracted, not added: decodedByteCount never exceeds declared, so neither side can overflow.
        if let declared = config.decodedContentLength, size > declared - decodedByteCount {
            throw .incompleteBody("The aws-chunked body is longer than x-amz-decoded-content-length (\(declared)).")
        }
        if config.signing != nil {
            expectedChunkSignature = try Self.chunkSignature(in: parts.dropFirst())
        }
        if size == 0 {
            try verifyChunkSignature()
            state = .trailers
        } else {
            state = .chunkData(remaining: size)
        }
    }

    /// The `chunk-signature` extension's value; signed bodies must carry one per chunk.
    private static func chunkSignature(in extensions: ArraySlice<Substring>) throws(AuthFailure) -> String {
        for item in extensions {
            guard let equals = item.firstIndex(of: "=") else { continue }
            if item[..<equals].trimmingSpaces == "chunk-signature" {
                let value = item[item.index(after: equals)...].trimmingSpaces
                guard value.utf8.count == 64, value.utf8.allSatisfy(isHexDigit) else { break }
                return asciiLowercased(String(value))
            }
        }
        throw AuthFailure(
            code: .signatureDoesNotMatch, message: "A chunk of a signed aws-chunked body has no valid chunk-signature.")
    }

    /// Called when a chunk's last data byte has been read.
    mutating func endChunkData() throws(AuthFailure) {
        try verifyChunkSignature()
        state = .chunkDataEnd(seen: 0)
    }

    /// Checks the current chunk's signature against its data hash and chains it forward.
    private mutating func verifyChunkSignature() throws(AuthFailure) {
        guard let signing = config.signing, let provided = expectedChunkSignature else { return }
        let expected = ChunkSignature.chunk(signing, previous: previousSignature, dataHash: chunkHash.finalize())
        guard constantTimeEquals(Array(expected.utf8), Array(provided.utf8)) else {
            throw .signatureMismatch()
        }
        previousSignature = provided
        expectedChunkSignature = nil
    }

    /// Consumes the CRLF (or bare LF) that closes a chunk's data.
    mutating func consumeChunkDataEnd(_ input: inout ByteBuffer, seen: Int) throws(AuthFailure) {
        let byte = input.readInteger(as: UInt8.self)!
        switch (seen, byte) {
        case (0, UInt8(ascii: "\r")):
            state = .chunkDataEnd(seen: 1)
        case (_, UInt8(ascii: "\n")):
            state = .chunkHeader
        default:
            throw .incompleteBody("A chunk's data is not followed by CRLF: the chunk size does not match its data.")
        }
    }

    /// Handles one line after the zero-size chunk: a trailer, the trailer signature, or a blank line.
    mutating func handleTrailerLine(_ bytes: [UInt8]) throws(AuthFailure) {
        guard !bytes.isEmpty else {
            let expectsTrailers = config.signedTrailer || !config.trailerNames.isEmpty
            let awaitingFirstTrailer = expectsTrailers && trailers.isEmpty && !trailerSignatureVerified
            let awaitingSignature = config.signedTrailer && !trailerSignatureVerified
            // Blank lines before the trailers, or between them and their signature, are framing
            // variations some clients send; otherwise a blank line ends the body.
            if awaitingFirstTrailer || awaitingSignature { return }
            try completeTrailers()
            return
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else {
            throw .malformedTrailer("a trailer line has no ':'")
        }
        let name = asciiLowercased(String(text[..<colon].trimmingSpaces))
        let value = String(text[text.index(after: colon)...].trimmingSpaces)
        if name == "x-amz-trailer-signature" {
            try verifyTrailerSignature(value)
            return
        }
        guard !trailerSignatureVerified else {
            throw .malformedTrailer("\(name) follows x-amz-trailer-signature")
        }
        guard config.trailerNames.contains(name) else {
            throw .malformedTrailer("\(name) was not announced in x-amz-trailer")
        }
        guard trailers[name] == nil else {
            throw .malformedTrailer("\(name) appears twice")
        }
        trailers[name] = value
        canonicalTrailer += name + ":" + value + "\n"
    }

    private mutating func verifyTrailerSignature(_ value: String) throws(AuthFailure) {
        guard config.signedTrailer, let signing = config.signing, !trailerSignatureVerified else {
            throw .malformedTrailer("unexpected x-amz-trailer-signature")
        }
        let expected = ChunkSignature.trailer(signing, previous: previousSignature, canonicalTrailer: canonicalTrailer)
        guard constantTimeEquals(Array(expected.utf8), Array(asciiLowercased(value).utf8)) else {
            throw .signatureMismatch()
        }
        trailerSignatureVerified = true
    }

    /// Ends the body: every announced trailer present and, when signed, verified.
    mutating func completeTrailers() throws(AuthFailure) {
        for name in config.trailerNames where trailers[name] == nil {
            throw .malformedTrailer("\(name) was announced in x-amz-trailer but not sent")
        }
        if config.signedTrailer && !trailerSignatureVerified {
            throw .malformedTrailer("x-amz-trailer-signature is missing")
        }
        state = .done
    }

    /// After the body's end only stray line ends are tolerated.
    mutating func consumeAfterEnd(_ input: inout ByteBuffer) throws(AuthFailure) {
        let byte = input.readInteger(as: UInt8.self)!
        guard byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") else {
            throw .incompleteBody("Unexpected data after the end of the aws-chunked body.")
        }
    }
}
