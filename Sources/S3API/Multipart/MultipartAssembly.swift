import Digest
import Foundation
import ObjectStore
import S3Wire

/// How a multipart upload's object checksum is formed: the algorithm named at creation (CRC64NVME when none
/// was, as S3 now computes for every object) and FULL_OBJECT or COMPOSITE.
struct MultipartChecksumMode: Equatable, Sendable {
    var algorithm: ChecksumAlgorithm
    var type: String
    /// Whether the client chose the algorithm (and so must get it), or it is S3's default.
    var requested: Bool

    static let fullObject = "FULL_OBJECT"
    static let composite = "COMPOSITE"

    /// Reads `x-amz-checksum-algorithm` and `x-amz-checksum-type` from CreateMultipartUpload, applying S3's
    /// rules: CRC64NVME is full-object only, the SHAs composite only, the 32-bit CRCs either (composite unless
    /// asked).
    static func fromCreateHeaders(algorithm: String?, type: String?) throws(S3Error) -> MultipartChecksumMode {
        let parsedType = try type.map { value throws(S3Error) -> String in
            let upper = value.uppercased()
            guard upper == fullObject || upper == composite else {
                throw S3Error(.invalidRequest, "Value for x-amz-checksum-type header is invalid.")
            }
            return upper
        }
        guard let algorithm else {
            if parsedType != nil {
                throw S3Error(.invalidRequest, "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
            }
            return MultipartChecksumMode(algorithm: .crc64nvme, type: fullObject, requested: false)
        }
        guard let parsed = ChecksumAlgorithm(rawValue: algorithm.uppercased()) else {
            throw S3Error(.invalidRequest, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
        }
        let resolved = parsedType ?? (parsed == .crc64nvme ? fullObject : composite)
        if resolved == fullObject && !parsed.supportsFullObjectCombine {
            throw S3Error(.invalidRequest, "The FULL_OBJECT checksum type cannot be used with the \(parsed.rawValue.lowercased()) checksum algorithm.")
        }
        if resolved == composite && parsed == .crc64nvme {
            throw S3Error(.invalidRequest, "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.")
        }
        return MultipartChecksumMode(algorithm: parsed, type: resolved, requested: true)
    }

    /// The mode an upload was created with.
    init(_ upload: MultipartUpload) {
        if let name = upload.checksumAlgorithm, let algorithm = ChecksumAlgorithm(rawValue: name) {
            self.init(algorithm: algorithm, type: upload.checksumType ?? Self.composite, requested: true)
        } else {
            self.init(algorithm: .crc64nvme, type: Self.fullObject, requested: false)
        }
    }

    init(algorithm: ChecksumAlgorithm, type: String, requested: Bool) {
        self.algorithm = algorithm
        self.type = type
        self.requested = requested
    }
}

/// Builds the object a CompleteMultipartUpload makes from the parts it lists, enforcing S3's rules. Pure: the
/// index calls it inside the completing transaction, with the upload's stored parts.
struct MultipartAssembly: Sendable {
    static let minimumPartSize: Int64 = 5 << 20

    var requested: [RequestedPart]
    /// `x-amz-checksum-<alg>` on the Complete request: the whole object's checksum, to verify.
    var objectChecksum: (algorithm: ChecksumAlgorithm, value: String)?
    /// `x-amz-mp-object-size`, to verify.
    var objectSize: Int64?
    var lastModified: Date

    func assemble(_ upload: MultipartUpload, stored: [UploadedPart]) throws(S3Error) -> ObjectRecord {
        let byNumber = Dictionary(stored.map { ($0.number, $0) }, uniquingKeysWith: { _, last in last })
        let mode = MultipartChecksumMode(upload)
        var chosen: [UploadedPart] = []
        chosen.reserveCapacity(requested.count)
        var previous = 0
        for want in requested {
            guard (1...10_000).contains(want.number) else {
                throw S3Error(.invalidArgument, "Part number must be an integer between 1 and 10000, inclusive",
                              details: [("ArgumentName", "partNumber"), ("ArgumentValue", String(want.number))])
            }
            guard want.number > previous else { throw S3Error(.invalidPartOrder, details: [("UploadId", upload.uploadID)]) }
            previous = want.number
            guard let part = byNumber[want.number], part.etag == want.etag else {
                throw S3Error(.invalidPart, details: [("UploadId", upload.uploadID), ("PartNumber", String(want.number)), ("ETag", want.etag)])
            }
            if mode.requested, mode.type == MultipartChecksumMode.composite, want.checksums[mode.algorithm] == nil {
                throw S3Error(.invalidRequest, "The upload was created using a \(mode.algorithm.rawValue.lowercased()) checksum. The complete request must include the checksum for each part. It was missing for part \(want.number) in the request.")
            }
            for (algorithm, value) in want.checksums where part.checksum?.algorithm != algorithm.rawValue || part.checksum?.value != value {
                throw S3Error(.invalidPart, "The \(algorithm.rawValue.lowercased()) checksum of part \(want.number) does not match the uploaded part.",
                              details: [("UploadId", upload.uploadID), ("PartNumber", String(want.number))])
            }
            chosen.append(part)
        }
        for part in chosen.dropLast() where part.size < Self.minimumPartSize {
            throw S3Error(.entityTooSmall, details: [
                ("ProposedSize", String(part.size)), ("MinSizeAllowed", String(Self.minimumPartSize)),
                ("PartNumber", String(part.number)), ("ETag", part.etag),
            ])
        }
        let size = chosen.reduce(Int64(0)) { $0 + $1.size }
        if let objectSize, objectSize != size {
            throw S3Error(.invalidRequest, "The provided 'x-amz-mp-object-size' header value \(objectSize) does not match the object size \(size).")
        }
        let checksum = try Self.objectChecksum(of: chosen, mode: mode)
        if let objectChecksum {
            guard objectChecksum.algorithm == mode.algorithm, let checksum else {
                throw S3Error(.invalidRequest, "The upload was created using the \(mode.requested ? mode.algorithm.rawValue.lowercased() : "default") checksum algorithm; x-amz-checksum-\(objectChecksum.algorithm.rawValue.lowercased()) cannot be used to complete it.")
            }
            let claimed = objectChecksum.value.split(separator: "-").first.map(String.init) ?? objectChecksum.value
            let actual = checksum.value.split(separator: "-").first.map(String.init) ?? checksum.value
            if claimed != actual {
                throw S3Error(.badDigest, "The \(mode.algorithm.rawValue.lowercased()) you specified for the object did not match what was calculated.")
            }
        }
        var md5 = MD5()
        for part in chosen { md5.update(decodeHex(part.etag) ?? []) }
        return ObjectRecord(
            bucket: upload.bucket, key: upload.key, size: size,
            etag: md5.finalize().hexString + "-\(chosen.count)", lastModified: lastModified,
            metadata: upload.metadata, checksum: checksum,
            segments: chosen.flatMap(\.segments),
            parts: chosen.map { ObjectPart(number: $0.number, size: $0.size, checksum: $0.checksum?.value) })
    }

    /// The object's checksum from its parts': a checksum of the part checksums with `-N` (COMPOSITE), or the
    /// CRCs folded into the CRC of the whole (FULL_OBJECT). Nil if a part lacks a checksum in the algorithm
    /// and the client never asked for one.
    static func objectChecksum(of parts: [UploadedPart], mode: MultipartChecksumMode) throws(S3Error) -> StoredChecksum? {
        var digests: [(digest: [UInt8], length: Int64)] = []
        digests.reserveCapacity(parts.count)
        for part in parts {
            guard let checksum = part.checksum, checksum.algorithm == mode.algorithm.rawValue,
                  let digest = decodeBase64(checksum.value)
            else {
                if mode.requested {
                    throw S3Error(.invalidPart, "Part \(part.number) has no \(mode.algorithm.rawValue.lowercased()) checksum.")
                }
                return nil
            }
            digests.append((digest, part.size))
        }
        if mode.type == MultipartChecksumMode.composite {
            var digest = mode.algorithm.makeDigest()
            for part in digests { digest.update(part.digest) }
            return StoredChecksum(algorithm: mode.algorithm.rawValue, value: digest.finalize().base64String + "-\(parts.count)", type: mode.type)
        }
        guard let whole = mode.algorithm.combineFullObject(digests) else { return nil }
        return StoredChecksum(algorithm: mode.algorithm.rawValue, value: whole.base64String, type: mode.type)
    }
}
