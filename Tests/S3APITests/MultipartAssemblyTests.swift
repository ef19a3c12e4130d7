import Digest
import Foundation
import ObjectStore
import Testing

@testable import S3API
@testable import S3Wire

private enum Fixture {
    static let mib: Int64 = 1 << 20
    static let date = Date(timeIntervalSince1970: 1_700_000_000)
    /// A full-size part's bytes (5 MiB, the smallest a part other than the last may be).
    static let fullPartBytes = pattern(5 << 20, seed: 1)

    static func pattern(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &+ $0 >> 8) }
    }

    static func upload(algorithm: String? = nil, type: String? = nil) -> MultipartUpload {
        MultipartUpload(
            uploadID: "upload-1", bucket: "b", key: "dir/big.bin", initiated: date,
            metadata: ObjectMetadata(contentType: "application/x-test", userMetadata: ["owner": "me"]),
            checksumAlgorithm: algorithm, checksumType: type)
    }

    static func digest(_ algorithm: ChecksumAlgorithm, _ bytes: [UInt8]) -> [UInt8] {
        var digest = algorithm.makeDigest()
        digest.update(bytes)
        return digest.finalize()
    }

    static func md5Hex(_ bytes: [UInt8]) -> String {
        var md5 = MD5()
        md5.update(bytes)
        return md5.finalize().hexString
    }

    static func etag(_ number: Int) -> String { md5Hex(Array("part \(number)".utf8)) }

    /// A stored part of `size` bytes in blob `blob-N`, with a made-up (but real MD5) ETag.
    static func part(_ number: Int, size: Int64 = 5 << 20, checksum: StoredChecksum? = nil) -> UploadedPart {
        UploadedPart(
            number: number, size: size, etag: etag(number), lastModified: date, checksum: checksum,
            segments: [BlobSegment(blobID: BlobID("blob-\(number)"), size: size)])
    }

    /// A stored part made of real bytes: its ETag is their MD5, its checksum (if any) theirs.
    static func part(_ number: Int, bytes: [UInt8], algorithm: ChecksumAlgorithm?) -> UploadedPart {
        UploadedPart(
            number: number, size: Int64(bytes.count), etag: md5Hex(bytes), lastModified: date,
            checksum: algorithm.map { StoredChecksum(algorithm: $0.rawValue, value: digest($0, bytes).base64String) },
            segments: [BlobSegment(blobID: BlobID("blob-\(number)"), size: Int64(bytes.count))])
    }

    static func want(_ number: Int, etag: String? = nil, checksums: [ChecksumAlgorithm: String] = [:]) -> RequestedPart {
        RequestedPart(number: number, etag: etag ?? Self.etag(number), checksums: checksums)
    }

    /// The `<Part>` a client sends back for a stored part, with its checksum or without.
    static func want(_ part: UploadedPart, sendingChecksum: Bool) -> RequestedPart {
        var checksums: [ChecksumAlgorithm: String] = [:]
        if sendingChecksum, let checksum = part.checksum, let algorithm = ChecksumAlgorithm(rawValue: checksum.algorithm) {
            checksums[algorithm] = checksum.value
        }
        return RequestedPart(number: part.number, etag: part.etag, checksums: checksums)
    }

    static func assembly(
        _ requested: [RequestedPart], objectChecksum: (algorithm: ChecksumAlgorithm, value: String)? = nil, objectSize: Int64? = nil
    ) -> MultipartAssembly {
        MultipartAssembly(requested: requested, objectChecksum: objectChecksum, objectSize: objectSize, lastModified: date)
    }
}

@Suite("CompleteMultipartUpload document")
struct CompleteRequestParsingTests {
    @Test("reads part numbers, unquoted ETags and part checksums, in document order")
    func parsesParts() throws {
        let document = """
            <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Part><PartNumber>1</PartNumber><ETag>"0123abcd"</ETag></Part>
              <Part>
                <ETag> 4567ef </ETag>
                <PartNumber> 2 </PartNumber>
                <ChecksumCRC32>AAAAAA==</ChecksumCRC32>
                <ChecksumSHA256> c2hhMjU2 </ChecksumSHA256>
              </Part>
            </CompleteMultipartUpload>
            """
        let parts = try CompleteMultipartUploadXML.parse(Array(document.utf8))
        #expect(parts == [
            RequestedPart(number: 1, etag: "0123abcd", checksums: [:]),
            RequestedPart(number: 2, etag: "4567ef", checksums: [.crc32: "AAAAAA==", .sha256: "c2hhMjU2"]),
        ])
    }

    @Test("an ETag whose quotes are escaped as &quot; is unquoted too")
    func escapedQuotes() throws {
        let document = "<CompleteMultipartUpload><Part><PartNumber>3</PartNumber><ETag>&quot;89ab&quot;</ETag></Part></CompleteMultipartUpload>"
        #expect(try CompleteMultipartUploadXML.parse(Array(document.utf8)) == [RequestedPart(number: 3, etag: "89ab", checksums: [:])])
    }

    @Test(
        "anything but a non-empty list of complete parts is MalformedXML",
        arguments: [
            "<CompleteMultipartUpload></CompleteMultipartUpload>",
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><ETag>\"abc\"</ETag></Part></CompleteMultipartUpload>",
            "<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>abc</ETag></Part></CompleteMultipartUpload>",
            "<CompleteUpload><Part><PartNumber>1</PartNumber><ETag>abc</ETag></Part></CompleteUpload>",
            "not xml at all",
        ])
    func malformed(_ document: String) {
        #expect(s3ErrorCode { try CompleteMultipartUploadXML.parse(Array(document.utf8)) } == .malformedXML)
    }
}

@Suite("MultipartAssembly.assemble")
struct MultipartAssemblyTests {
    @Test("the ETag is the MD5 of the parts' binary MD5s, then -N")
    func etag() throws {
        let stored = [Fixture.part(1), Fixture.part(2), Fixture.part(3, size: 1234)]
        let record = try Fixture.assembly([Fixture.want(1), Fixture.want(2), Fixture.want(3)]).assemble(Fixture.upload(), stored: stored)
        var md5 = MD5()
        for part in stored { md5.update(try #require(decodeHex(part.etag))) }
        #expect(record.etag == md5.finalize().hexString + "-3")
    }

    @Test("the record has the upload's bucket, key and metadata, the given time, and the parts' total size")
    func recordFields() throws {
        let upload = Fixture.upload()
        let record = try Fixture.assembly([Fixture.want(1), Fixture.want(2)])
            .assemble(upload, stored: [Fixture.part(1), Fixture.part(2, size: 10)])
        #expect(record.bucket == upload.bucket)
        #expect(record.key == upload.key)
        #expect(record.metadata == upload.metadata)
        #expect(record.lastModified == Fixture.date)
        #expect(record.size == 5 * Fixture.mib + 10)
    }

    @Test("segments are the requested parts' segments in part order; parts left out (even small ones) are not")
    func segmentsAndParts() throws {
        let first = UploadedPart(
            number: 1, size: 5 * Fixture.mib, etag: Fixture.etag(1), lastModified: Fixture.date,
            checksum: StoredChecksum(algorithm: "CRC32", value: "AAAAAQ=="),
            segments: [
                BlobSegment(blobID: BlobID("a"), offset: 0, size: 3 * Fixture.mib),
                BlobSegment(blobID: BlobID("b"), offset: 10, size: 2 * Fixture.mib),
            ])
        let third = UploadedPart(
            number: 3, size: 100, etag: Fixture.etag(3), lastModified: Fixture.date, checksum: nil,
            segments: [BlobSegment(blobID: BlobID("c"), offset: 7, size: 100)])
        let stored = [first, Fixture.part(2, size: 1), third]
        let record = try Fixture.assembly([Fixture.want(1), Fixture.want(3)]).assemble(Fixture.upload(), stored: stored)
        #expect(record.segments == first.segments + third.segments)
        #expect(record.parts == [
            ObjectPart(number: 1, size: 5 * Fixture.mib, checksum: "AAAAAQ=="),
            ObjectPart(number: 3, size: 100, checksum: nil),
        ])
        #expect(record.size == 5 * Fixture.mib + 100)
        #expect(record.etag.hasSuffix("-2"))
    }

    @Test("the last part may be smaller than 5 MiB, even empty")
    func smallLastPart() throws {
        let two = try Fixture.assembly([Fixture.want(1), Fixture.want(2)])
            .assemble(Fixture.upload(), stored: [Fixture.part(1), Fixture.part(2, size: 1)])
        #expect(two.size == 5 * Fixture.mib + 1)
        let single = try Fixture.assembly([Fixture.want(1)]).assemble(Fixture.upload(), stored: [Fixture.part(1, size: 0)])
        #expect(single.size == 0)
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let stored: [UploadedPart]
        let requested: [RequestedPart]
        let code: S3ErrorCode
    }

    static let refusals: [Refusal] = [
        Refusal(testDescription: "descending part numbers are InvalidPartOrder", stored: [Fixture.part(1), Fixture.part(2)],
                requested: [Fixture.want(2), Fixture.want(1)], code: .invalidPartOrder),
        Refusal(testDescription: "a repeated part number is InvalidPartOrder", stored: [Fixture.part(1), Fixture.part(2)],
                requested: [Fixture.want(1), Fixture.want(1)], code: .invalidPartOrder),
        Refusal(testDescription: "a wrong ETag is InvalidPart", stored: [Fixture.part(1)],
                requested: [Fixture.want(1, etag: Fixture.etag(9))], code: .invalidPart),
        Refusal(testDescription: "a part never uploaded is InvalidPart", stored: [Fixture.part(1), Fixture.part(2)],
                requested: [Fixture.want(1), Fixture.want(3)], code: .invalidPart),
        Refusal(testDescription: "a part smaller than 5 MiB before the last is EntityTooSmall",
                stored: [Fixture.part(1, size: 5 * Fixture.mib - 1), Fixture.part(2)],
                requested: [Fixture.want(1), Fixture.want(2)], code: .entityTooSmall),
        Refusal(testDescription: "part number 0 is InvalidArgument", stored: [Fixture.part(1)],
                requested: [Fixture.want(0)], code: .invalidArgument),
        Refusal(testDescription: "part number 10001 is InvalidArgument", stored: [Fixture.part(1)],
                requested: [Fixture.want(10_001)], code: .invalidArgument),
    ]

    @Test(arguments: refusals)
    func refuses(_ refusal: Refusal) {
        #expect(s3ErrorCode { try Fixture.assembly(refusal.requested).assemble(Fixture.upload(), stored: refusal.stored) } == refusal.code)
    }

    @Test("x-amz-mp-object-size must equal the assembled size")
    func objectSize() throws {
        let stored = [Fixture.part(1), Fixture.part(2, size: 10)]
        let requested = [Fixture.want(1), Fixture.want(2)]
        #expect(s3ErrorCode { try Fixture.assembly(requested, objectSize: 5 * Fixture.mib + 11).assemble(Fixture.upload(), stored: stored) } == .invalidRequest)
        let record = try Fixture.assembly(requested, objectSize: 5 * Fixture.mib + 10).assemble(Fixture.upload(), stored: stored)
        #expect(record.size == 5 * Fixture.mib + 10)
    }
}

@Suite("Multipart object checksums")
struct MultipartChecksumTests {
    static let tail = Fixture.pattern(12_345, seed: 7)

    @Test("COMPOSITE: the algorithm over the parts' raw digests, base64, then -N", arguments: [ChecksumAlgorithm.sha256, .crc32])
    func composite(_ algorithm: ChecksumAlgorithm) throws {
        let stored = [Fixture.part(1, bytes: Fixture.fullPartBytes, algorithm: algorithm), Fixture.part(2, bytes: Self.tail, algorithm: algorithm)]
        let record = try Fixture.assembly(stored.map { Fixture.want($0, sendingChecksum: true) })
            .assemble(Fixture.upload(algorithm: algorithm.rawValue, type: "COMPOSITE"), stored: stored)
        let expected = Fixture.digest(algorithm, Fixture.digest(algorithm, Fixture.fullPartBytes) + Fixture.digest(algorithm, Self.tail))
        #expect(record.checksum == StoredChecksum(algorithm: algorithm.rawValue, value: expected.base64String + "-2", type: "COMPOSITE"))
        #expect(record.parts.map(\.checksum) == stored.map(\.checksum?.value))
    }

    @Test("FULL_OBJECT CRC32 is the CRC of the concatenated bytes")
    func fullObjectCRC32() throws {
        let stored = [
            Fixture.part(1, bytes: Fixture.fullPartBytes, algorithm: .crc32),
            Fixture.part(2, bytes: Fixture.fullPartBytes, algorithm: .crc32),
            Fixture.part(3, bytes: Self.tail, algorithm: .crc32),
        ]
        let record = try Fixture.assembly(stored.map { Fixture.want($0, sendingChecksum: false) })
            .assemble(Fixture.upload(algorithm: "CRC32", type: "FULL_OBJECT"), stored: stored)
        var whole = CRC32()
        whole.update(Fixture.fullPartBytes)
        whole.update(Fixture.fullPartBytes)
        whole.update(Self.tail)
        #expect(record.checksum == StoredChecksum(algorithm: "CRC32", value: whole.finalize().base64String, type: "FULL_OBJECT"))
    }

    @Test("FULL_OBJECT combines parts of any size, including an empty one", arguments: [ChecksumAlgorithm.crc32c, .crc64nvme])
    func fullObjectOddSizes(_ algorithm: ChecksumAlgorithm) throws {
        let pieces = [Fixture.pattern(1, seed: 1), Fixture.pattern(7, seed: 2), Fixture.pattern(1000, seed: 3), []]
        let parts = pieces.enumerated().map { Fixture.part($0.offset + 1, bytes: $0.element, algorithm: algorithm) }
        let mode = MultipartChecksumMode(algorithm: algorithm, type: "FULL_OBJECT", requested: true)
        let checksum = try MultipartAssembly.objectChecksum(of: parts, mode: mode)
        #expect(checksum == StoredChecksum(algorithm: algorithm.rawValue, value: Fixture.digest(algorithm, pieces.flatMap { $0 }).base64String, type: "FULL_OBJECT"))
    }

    @Test("an upload created without an algorithm gets a FULL_OBJECT CRC64NVME when every part has one")
    func defaultCRC64() throws {
        let stored = [Fixture.part(1, bytes: Fixture.fullPartBytes, algorithm: .crc64nvme), Fixture.part(2, bytes: Self.tail, algorithm: .crc64nvme)]
        let record = try Fixture.assembly(stored.map { Fixture.want($0, sendingChecksum: false) }).assemble(Fixture.upload(), stored: stored)
        let expected = Fixture.digest(.crc64nvme, Fixture.fullPartBytes + Self.tail).base64String
        #expect(record.checksum == StoredChecksum(algorithm: "CRC64NVME", value: expected, type: "FULL_OBJECT"))
    }

    @Test("an upload created without an algorithm whose parts lack checksums gets none")
    func defaultWithoutPartChecksums() throws {
        let record = try Fixture.assembly([Fixture.want(1), Fixture.want(2)])
            .assemble(Fixture.upload(), stored: [Fixture.part(1), Fixture.part(2, size: 3)])
        #expect(record.checksum == nil)
    }

    @Test("a whole-object checksum header is checked against the assembled one")
    func wholeObjectHeader() throws {
        let stored = [Fixture.part(1, bytes: Fixture.fullPartBytes, algorithm: .crc32), Fixture.part(2, bytes: Self.tail, algorithm: .crc32)]
        let requested = stored.map { Fixture.want($0, sendingChecksum: false) }
        let upload = Fixture.upload(algorithm: "CRC32", type: "FULL_OBJECT")
        let right = Fixture.digest(.crc32, Fixture.fullPartBytes + Self.tail).base64String
        let record = try Fixture.assembly(requested, objectChecksum: (algorithm: .crc32, value: right)).assemble(upload, stored: stored)
        #expect(record.checksum?.value == right)
        #expect(s3ErrorCode { try Fixture.assembly(requested, objectChecksum: (algorithm: .crc32, value: "AAAAAA==")).assemble(upload, stored: stored) } == .badDigest)
        #expect(s3ErrorCode { try Fixture.assembly(requested, objectChecksum: (algorithm: .sha256, value: right)).assemble(upload, stored: stored) } == .invalidRequest)
    }

    @Test("a COMPOSITE upload needs every part's checksum in the request, and a matching one")
    func compositeNeedsPartChecksums() {
        let stored = [Fixture.part(1, bytes: Fixture.fullPartBytes, algorithm: .sha256), Fixture.part(2, bytes: Self.tail, algorithm: .sha256)]
        let upload = Fixture.upload(algorithm: "SHA256", type: "COMPOSITE")
        let missing = [Fixture.want(stored[0], sendingChecksum: true), Fixture.want(stored[1], sendingChecksum: false)]
        #expect(s3ErrorCode { try Fixture.assembly(missing).assemble(upload, stored: stored) } == .invalidRequest)
        let wrong = [Fixture.want(stored[0], sendingChecksum: true),
                     RequestedPart(number: 2, etag: stored[1].etag, checksums: [.sha256: stored[0].checksum?.value ?? ""])]
        #expect(s3ErrorCode { try Fixture.assembly(wrong).assemble(upload, stored: stored) } == .invalidPart)
    }
}

@Suite("MultipartChecksumMode")
struct MultipartChecksumModeTests {
    struct Resolution: Sendable, CustomTestStringConvertible {
        let algorithm: String?
        let type: String?
        let expected: MultipartChecksumMode
        var testDescription: String { "algorithm \(algorithm ?? "absent"), type \(type ?? "absent")" }
    }

    @Test("CreateMultipartUpload headers resolve to S3's algorithm and type", arguments: [
        Resolution(algorithm: nil, type: nil, expected: MultipartChecksumMode(algorithm: .crc64nvme, type: "FULL_OBJECT", requested: false)),
        Resolution(algorithm: "crc32", type: nil, expected: MultipartChecksumMode(algorithm: .crc32, type: "COMPOSITE", requested: true)),
        Resolution(algorithm: "CRC32C", type: "full_object", expected: MultipartChecksumMode(algorithm: .crc32c, type: "FULL_OBJECT", requested: true)),
        Resolution(algorithm: "CRC64NVME", type: nil, expected: MultipartChecksumMode(algorithm: .crc64nvme, type: "FULL_OBJECT", requested: true)),
        Resolution(algorithm: "SHA1", type: nil, expected: MultipartChecksumMode(algorithm: .sha1, type: "COMPOSITE", requested: true)),
        Resolution(algorithm: "SHA256", type: "COMPOSITE", expected: MultipartChecksumMode(algorithm: .sha256, type: "COMPOSITE", requested: true)),
    ])
    func resolves(_ resolution: Resolution) throws {
        #expect(try MultipartChecksumMode.fromCreateHeaders(algorithm: resolution.algorithm, type: resolution.type) == resolution.expected)
    }

    @Test("invalid combinations are InvalidRequest", arguments: [
        ("CRC64NVME", "COMPOSITE"), ("SHA256", "FULL_OBJECT"), ("SHA1", "FULL_OBJECT"),
        (nil, "COMPOSITE"), ("MD5", nil), ("CRC32", "PARTIAL"),
    ] as [(String?, String?)])
    func rejects(_ algorithm: String?, _ type: String?) {
        #expect(s3ErrorCode { try MultipartChecksumMode.fromCreateHeaders(algorithm: algorithm, type: type) } == .invalidRequest)
    }

    @Test("an upload's stored algorithm and type give its mode")
    func fromUpload() {
        #expect(MultipartChecksumMode(Fixture.upload()) == MultipartChecksumMode(algorithm: .crc64nvme, type: "FULL_OBJECT", requested: false))
        #expect(MultipartChecksumMode(Fixture.upload(algorithm: "CRC32", type: "FULL_OBJECT"))
            == MultipartChecksumMode(algorithm: .crc32, type: "FULL_OBJECT", requested: true))
        #expect(MultipartChecksumMode(Fixture.upload(algorithm: "SHA256", type: nil))
            == MultipartChecksumMode(algorithm: .sha256, type: "COMPOSITE", requested: true))
    }
}
