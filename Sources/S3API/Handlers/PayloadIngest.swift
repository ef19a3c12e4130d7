import Digest
import HummingbirdCore
import NIOCore
import ObjectStore
import S3Auth
import S3Wire

/// Streams a request body into a blob: decodes aws-chunked framing, hashes in one pass (MD5 for the ETag,
/// the object checksum, SHA-256 when the signature covers the payload) and verifies every digest the request
/// promised before the blob is committed. Any failure aborts the blob, so nothing half-written remains.
struct PayloadIngest {
    /// What the request promised about its body.
    struct Expectations {
        var payload: PayloadVerification
        var contentMD5: [UInt8]?
        var checksum: ChecksumExpectation
        /// Decoded bytes the request declared (Content-Length, or x-amz-decoded-content-length), if any.
        var declaredLength: Int64?
        var maxSize: Int64
        /// The fewest bytes allowed (a POST policy's content-length-range).
        var minSize: Int64 = 0
    }

    struct Outcome {
        var blobID: BlobID
        var size: Int64
        var md5: [UInt8]
        var checksum: StoredChecksum
    }

    static func ingest(
        _ body: RequestBody, into writer: any BlobWriter, expecting expected: Expectations, progress: BodyProgress
    ) async throws -> Outcome {
        do {
            let outcome = try await stream(body, into: writer, expecting: expected, progress: progress)
            return outcome
        } catch {
            await writer.abort()
            throw error
        }
    }

    private static func stream(
        _ body: RequestBody, into writer: any BlobWriter, expecting expected: Expectations, progress: BodyProgress
    ) async throws -> Outcome {
        var md5 = MD5()
        var checksum = expected.checksum.algorithm.makeDigest()
        var sha256: SHA256? = nil
        var decoder: AWSChunkedDecoder? = nil
        switch expected.payload {
        case .sha256: sha256 = SHA256()
        case .chunked(let config): decoder = AWSChunkedDecoder(config: config)
        case .unsigned: break
        }
        var size: Int64 = 0
        var output = WriteBehind(writer, expectedSize: expected.declaredLength)
        var last = ByteBuffer()

        func consume(_ piece: ByteBuffer) async throws {
            size += Int64(piece.readableBytes)
            guard size <= expected.maxSize else { throw S3Error(.entityTooLarge, details: [("MaxSizeAllowed", String(expected.maxSize))]) }
            // Fail as soon as a body outgrows its declared length, rather than after writing it all to disk.
            if let declared = expected.declaredLength, size > declared { throw S3Error(.incompleteBody) }
            piece.withUnsafeReadableBytes { bytes in
                md5.update(bytes)
                checksum.update(bytes)
                sha256?.update(bytes)
            }
            try await output.write(piece)
        }

        do {
            for try await buffer in body {
                if decoder != nil {
                    for piece in try decoder!.decode(buffer) { try await consume(piece) }
                } else {
                    try await consume(buffer)
                }
            }
            last = try await output.finishKeepingLast()
        } catch {
            await output.cancel()
            throw error
        }
        progress.markFinished()
        let trailers = try decoder?.finish() ?? [:]
        if let declared = expected.declaredLength, size != declared { throw S3Error(.incompleteBody) }
        if size < expected.minSize {
            throw S3Error(.entityTooSmall, details: [("ProposedSize", String(size)), ("MinSizeAllowed", String(expected.minSize))])
        }

        if var sha256, case .sha256(let claimed) = expected.payload {
            let computed = sha256.finalize().hexString
            if computed != claimed.lowercased() {
                throw S3Error(.xAmzContentSHA256Mismatch, details: [
                    ("ClientComputedContentSHA256", claimed), ("S3ComputedContentSHA256", computed),
                ])
            }
        }
        let md5Digest = md5.finalize()
        if let contentMD5 = expected.contentMD5, contentMD5 != md5Digest {
            throw S3Error(.badDigest, details: [
                ("ExpectedDigest", contentMD5.base64String), ("CalculatedDigest", md5Digest.base64String),
            ])
        }
        let computed = checksum.finalize().base64String
        if let claimed = try expected.checksum.claimedValue(trailers: trailers), claimed != computed {
            throw S3Error(.badDigest, "The \(expected.checksum.algorithm.rawValue) you specified did not match the calculated checksum.")
        }
        let blobID = try await writer.commit(appending: last)
        return Outcome(
            blobID: blobID, size: size, md5: md5Digest,
            checksum: StoredChecksum(algorithm: expected.checksum.algorithm.rawValue, value: computed, type: "FULL_OBJECT"))
    }
}

/// Which checksum the body is verified and stored with, and where its expected value comes from.
struct ChecksumExpectation {
    enum Source {
        /// The value arrived in a request header.
        case header(String)
        /// The value arrives in an aws-chunked trailer of this name.
        case trailer(String)
        /// Nothing to verify: the server computes it to store (the client asked for the algorithm, or S3's default).
        case computed
    }

    var algorithm: ChecksumAlgorithm
    var source: Source

    /// The value the client claimed, once the trailers are known.
    func claimedValue(trailers: [String: String]) throws(S3Error) -> String? {
        switch source {
        case .computed: return nil
        case .header(let value): return value
        case .trailer(let name):
            guard let value = trailers[name] else {
                throw S3Error(.malformedTrailerError, "The request contained trailing data that was not well-formed or did not conform to our published schema.")
            }
            guard ChecksumExpectation.isWellFormed(value, for: algorithm) else {
                throw S3Error(.invalidRequest, "Value for \(name) trailing header is invalid.")
            }
            return value
        }
    }

    /// Reads the checksum a PUT or UploadPart asks for from its headers and announced trailers.
    /// S3 computes `defaultAlgorithm` (CRC64NVME, or a multipart upload's algorithm) when the client names none.
    static func from(
        _ context: RequestContext, trailerNames: [String], defaultAlgorithm: ChecksumAlgorithm = .crc64nvme
    ) throws(S3Error) -> ChecksumExpectation {
        var found: [(ChecksumAlgorithm, String)] = []
        for field in context.headers {
            let name = field.name.canonicalName
            guard name.hasPrefix("x-amz-checksum-"), !checksumControlHeaders.contains(name) else { continue }
            // A checksum this server cannot compute must not pass unverified.
            guard let algorithm = ChecksumAlgorithm(headerName: name) else {
                throw S3Error(.invalidRequest, "The checksum algorithm of \(name) is not supported by this server.")
            }
            found.append((algorithm, field.value))
        }
        for name in trailerNames where name.hasPrefix("x-amz-checksum-") && ChecksumAlgorithm(headerName: name) == nil {
            throw S3Error(.invalidRequest, "The checksum algorithm of trailer \(name) is not supported by this server.")
        }
        let trailerChecksums = trailerNames.compactMap { name in ChecksumAlgorithm(headerName: name).map { ($0, name) } }
        guard found.count + trailerChecksums.count <= 1 else {
            throw S3Error(.invalidRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
        }
        let declared = context.nonEmptyHeader("x-amz-sdk-checksum-algorithm")
        let declaredAlgorithm: ChecksumAlgorithm?
        if let declared {
            guard let algorithm = ChecksumAlgorithm(rawValue: declared.uppercased()) else {
                throw S3Error(.invalidRequest, "Value for x-amz-sdk-checksum-algorithm header is invalid.")
            }
            declaredAlgorithm = algorithm
        } else {
            declaredAlgorithm = nil
        }
        if let (algorithm, value) = found.first {
            guard isWellFormed(value, for: algorithm) else {
                throw S3Error(.invalidRequest, "Value for \(algorithm.headerName) header is invalid.")
            }
            if let declaredAlgorithm, declaredAlgorithm != algorithm {
                throw S3Error(.invalidRequest, "Value for x-amz-sdk-checksum-algorithm header is invalid.")
            }
            return ChecksumExpectation(algorithm: algorithm, source: .header(value))
        }
        if let (algorithm, name) = trailerChecksums.first {
            return ChecksumExpectation(algorithm: algorithm, source: .trailer(name))
        }
        return ChecksumExpectation(algorithm: declaredAlgorithm ?? defaultAlgorithm, source: .computed)
    }

    /// `x-amz-checksum-*` headers that steer checksums rather than carry one.
    static let checksumControlHeaders: Set<String> = ["x-amz-checksum-mode", "x-amz-checksum-type", "x-amz-checksum-algorithm"]

    static func isWellFormed(_ base64: String, for algorithm: ChecksumAlgorithm) -> Bool {
        decodeBase64(base64)?.count == algorithm.digestLength
    }
}
