import Foundation
import ObjectStore
import Testing

/// The multipart behaviour every ``StorageIndex`` must show (uploads, parts, Complete and its receipts, abort, and
/// the blob references they move), as named cases that each take a fresh, empty index. `MultipartIndexTests` runs
/// them on SQLite and on PostgreSQL.
enum MultipartIndexContract {
    /// One behaviour, checked against an empty index.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let check: @Sendable (any StorageIndex) async throws -> Void

        init(_ name: String, _ check: @escaping @Sendable (any StorageIndex) async throws -> Void) {
            self.name = name
            self.check = check
        }

        var testDescription: String { name }
    }

    static var cases: [Case] { uploadCases + completionCases + copyCases + listingCases }

    // MARK: Fixtures

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static let everything = KeyRange(lower: [], lowerInclusive: true, upper: nil)

    static func makeUpload(_ id: String, key: String = "k", bucket: String = "b", initiated: Date = t0) -> MultipartUpload {
        MultipartUpload(uploadID: id, bucket: bucket, key: key, initiated: initiated, metadata: ObjectMetadata(contentType: "text/plain"))
    }

    /// Part `number` of `size` bytes, all in blob `blob` from `offset`.
    static func makePart(_ number: Int, blob: String, size: Int64 = 5, offset: Int64 = 0) -> UploadedPart {
        UploadedPart(
            number: number, size: size, etag: "etag-\(number)-\(blob)", lastModified: t0,
            checksum: StoredChecksum(algorithm: "CRC32", value: "crc-\(number)"),
            segments: [BlobSegment(blobID: BlobID(blob), offset: offset, size: size)])
    }

    /// An `assemble` that keeps the parts numbered `numbers`, and records in the ETag which parts it was given.
    static func assembling(_ numbers: [Int]) -> @Sendable (MultipartUpload, [UploadedPart]) throws -> ObjectRecord {
        { upload, parts in
            let chosen = parts.filter { numbers.contains($0.number) }
            return ObjectRecord(
                bucket: upload.bucket, key: upload.key, size: chosen.reduce(Int64(0)) { $0 + $1.size },
                etag: parts.map { String($0.number) }.joined(separator: ","), lastModified: t0, metadata: upload.metadata,
                checksum: nil, segments: chosen.flatMap(\.segments),
                parts: chosen.map { ObjectPart(number: $0.number, size: $0.size, checksum: $0.checksum?.value) })
        }
    }

    struct Refused: Error, Equatable {
        let reason: String
    }

    /// A bucket "b" holding upload "u1" of key "k" with parts 1...n in blobs p1...pn.
    static func prepareUpload(_ index: any StorageIndex, parts: Int) async throws {
        try await index.createBucket(ObjectIndexContract.bucket("b"))
        try await index.createUpload(makeUpload("u1"))
        for number in 1...parts {
            _ = try await index.putPart(makePart(number, blob: "p\(number)"), bucket: "b", key: "k", uploadID: "u1", source: nil)
        }
    }

    // MARK: Uploads and parts

    static let uploadCases: [Case] = [
        Case("a created upload is found by bucket, key and ID with every field, and by nothing else") { index in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            var created = makeUpload("u1", key: "dir/日本.bin")
            created.metadata = ObjectMetadata(contentType: "text/plain", userMetadata: ["a": "1"])
            created.checksumAlgorithm = "SHA256"
            created.checksumType = "COMPOSITE"
            try await index.createUpload(created)
            #expect(try await index.upload(bucket: "b", key: "dir/日本.bin", uploadID: "u1") == created)
            let otherKey = try await index.upload(bucket: "b", key: "dir", uploadID: "u1")
            let otherID = try await index.upload(bucket: "b", key: "dir/日本.bin", uploadID: "u2")
            #expect(otherKey == nil)
            #expect(otherID == nil)
            await #expect(throws: StoreError.noSuchBucket) { try await index.createUpload(makeUpload("u3", bucket: "none")) }
            await #expect(throws: StoreError.noSuchUpload) {
                try await index.putPart(makePart(1, blob: "x"), bucket: "b", key: "k", uploadID: "u1", source: nil)
            }
        },
        Case("replacing a part frees the old part's blob, unless another row still refers to it") { index in
            try await prepareUpload(index, parts: 1)
            let replaced = try await index.putPart(makePart(1, blob: "p1-new"), bucket: "b", key: "k", uploadID: "u1", source: nil)
            #expect(replaced.freedBlobs == [BlobID("p1")])
            #expect(try await index.isBlobReferenced(BlobID("p1")) == false)
            #expect(try await index.parts(bucket: "b", key: "k", uploadID: "u1", after: 0, limit: 10) == [makePart(1, blob: "p1-new")])

            // A part copied from an object shares the object's blob: replacing the part leaves it to the object.
            _ = try await index.putObject(ObjectIndexContract.record("b", "src", blob: "shared"), condition: .always)
            let copied = makePart(2, blob: "shared", size: 2, offset: 1)
            let put = try await index.putPart(
                copied, bucket: "b", key: "k", uploadID: "u1", source: SharedSource(bucket: "b", key: "src", segments: copied.segments))
            #expect(put.freedBlobs.isEmpty)
            let again = try await index.putPart(makePart(2, blob: "own"), bucket: "b", key: "k", uploadID: "u1", source: nil)
            #expect(again.freedBlobs.isEmpty)
            #expect(try await index.isBlobReferenced(BlobID("shared")))
            #expect(try await index.deleteObject(bucket: "b", key: "src").freedBlobs == [BlobID("shared")])
        },
        Case("parts are listed in number order, after a number, at most limit at a time") { index in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            try await index.createUpload(makeUpload("u1"))
            for number in [5, 1, 3, 2] {
                _ = try await index.putPart(makePart(number, blob: "p\(number)", offset: Int64(number)), bucket: "b", key: "k", uploadID: "u1", source: nil)
            }
            let list = { (after: Int, limit: Int) in try await index.parts(bucket: "b", key: "k", uploadID: "u1", after: after, limit: limit) }
            #expect(try await list(0, 100) == [1, 2, 3, 5].map { makePart($0, blob: "p\($0)", offset: Int64($0)) })
            #expect(try await list(0, 2).map(\.number) == [1, 2])
            #expect(try await list(2, 2).map(\.number) == [3, 5])
            #expect(try await list(3, 2).map(\.number) == [5])
            #expect(try await list(5, 2).isEmpty)
            await #expect(throws: StoreError.noSuchUpload) {
                try await index.parts(bucket: "b", key: "other", uploadID: "u1", after: 0, limit: 10)
            }
        },
        Case("aborting frees every part's blob and removes the upload") { index in
            try await prepareUpload(index, parts: 2)
            let change = try await index.abortUpload(bucket: "b", key: "k", uploadID: "u1")
            #expect(Set(change.freedBlobs) == [BlobID("p1"), BlobID("p2")])
            #expect(change.freedBlobs.count == 2)
            let gone = try await index.upload(bucket: "b", key: "k", uploadID: "u1")
            #expect(gone == nil)
            #expect(try await index.isBlobReferenced(BlobID("p1")) == false)
        },
        Case("deleting a bucket aborts its uploads and returns their blobs, but not while it holds objects") { index in
            try await prepareUpload(index, parts: 2)
            try await index.createUpload(makeUpload("u2", key: "z"))
            _ = try await index.putPart(makePart(1, blob: "z1"), bucket: "b", key: "z", uploadID: "u2", source: nil)
            _ = try await index.putObject(ObjectIndexContract.record("b", "obj", blob: "o"), condition: .always)
            await #expect(throws: StoreError.bucketNotEmpty) { try await index.deleteBucket(named: "b") }
            #expect(try await index.uploads(bucket: "b", range: everything, after: nil, limit: 10).count == 2)
            #expect(try await index.isBlobReferenced(BlobID("p1")))

            _ = try await index.deleteObject(bucket: "b", key: "obj")
            let freed = try await index.deleteBucket(named: "b")
            #expect(Set(freed) == [BlobID("p1"), BlobID("p2"), BlobID("z1")])
            #expect(freed.count == 3)
            let bucket = try await index.bucket(named: "b")
            #expect(bucket == nil)
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            #expect(try await index.uploads(bucket: "b", range: everything, after: nil, limit: 10).isEmpty)
        },
    ]

    // MARK: Complete

    static let completionCases: [Case] = [
        Case("completing moves the chosen parts' blobs into the object and frees the rest and the replaced object's") { index in
            try await prepareUpload(index, parts: 3)
            _ = try await index.putObject(ObjectIndexContract.record("b", "k", blob: "old"), condition: .always)
            let old = try #require(try await index.object(bucket: "b", key: "k"))
            let (record, change) = try await index.completeUpload(
                bucket: "b", key: "k", uploadID: "u1", condition: .ifETagMatches(old.etag), fingerprint: "f", assemble: assembling([1, 3]))
            #expect(record.etag == "1,2,3", "assemble is given every part, in order")
            #expect(record.segments.map(\.blobID) == [BlobID("p1"), BlobID("p3")])
            #expect(try await index.object(bucket: "b", key: "k") == record)
            #expect(change.replaced == old)
            #expect(Set(change.freedBlobs) == [BlobID("p2"), BlobID("old")])
            #expect(change.freedBlobs.count == 2)
            #expect(try await index.isBlobReferenced(BlobID("p1")))
            #expect(try await index.isBlobReferenced(BlobID("p3")))
            let gone = try await index.upload(bucket: "b", key: "k", uploadID: "u1")
            #expect(gone == nil)
            await #expect(throws: StoreError.noSuchUpload) {
                try await index.completeUpload(bucket: "b", key: "k", uploadID: "u1", condition: .always, fingerprint: "f", assemble: assembling([1]))
            }
            await #expect(throws: StoreError.noSuchUpload) { try await index.abortUpload(bucket: "b", key: "k", uploadID: "u1") }
        },
        Case("a completion leaves a receipt under its bucket, key and upload ID; a refused one leaves none") { index in
            try await prepareUpload(index, parts: 2)
            await #expect(throws: StoreError.preconditionFailed) {
                _ = try await index.putObject(ObjectIndexContract.record("b", "k"), condition: .ifETagMatches("x"))
            }
            await #expect(throws: StoreError.preconditionFailed) {
                try await index.completeUpload(bucket: "b", key: "k", uploadID: "u1", condition: .ifETagMatches("x"), fingerprint: "f", assemble: assembling([1]))
            }
            #expect(try await index.completedUpload(bucket: "b", key: "k", uploadID: "u1") == nil)
            let (record, _) = try await index.completeUpload(
                bucket: "b", key: "k", uploadID: "u1", condition: .always, fingerprint: "parts-1-2", assemble: assembling([1, 2]))
            let receipt = try #require(try await index.completedUpload(bucket: "b", key: "k", uploadID: "u1"))
            #expect(receipt.fingerprint == "parts-1-2")
            #expect(receipt.etag == record.etag)
            #expect(receipt.checksum == record.checksum)
            #expect(receipt.versionID == record.versionID)
            #expect(try await index.completedUpload(bucket: "b", key: "other", uploadID: "u1") == nil)
            #expect(try await index.completedUpload(bucket: "b", key: "k", uploadID: "u2") == nil)
        },
        Case("a refusing assemble or a failed condition leaves the upload, its parts and the object as they were") { index in
            try await prepareUpload(index, parts: 2)
            _ = try await index.putObject(ObjectIndexContract.record("b", "k", blob: "old"), condition: .always)
            let old = try await index.object(bucket: "b", key: "k")
            await #expect(throws: Refused(reason: "too small")) {
                try await index.completeUpload(bucket: "b", key: "k", uploadID: "u1", condition: .always, fingerprint: "f") { _, _ in
                    throw Refused(reason: "too small")
                }
            }
            await #expect(throws: StoreError.preconditionFailed) {
                try await index.completeUpload(bucket: "b", key: "k", uploadID: "u1", condition: .ifAbsent, fingerprint: "f", assemble: assembling([1, 2]))
            }
            #expect(try await index.upload(bucket: "b", key: "k", uploadID: "u1") == makeUpload("u1"))
            #expect(try await index.parts(bucket: "b", key: "k", uploadID: "u1", after: 0, limit: 10).count == 2)
            #expect(try await index.object(bucket: "b", key: "k") == old)
            for blob in ["p1", "p2", "old"] { #expect(try await index.isBlobReferenced(BlobID(blob))) }
        },
    ]

    // MARK: Shared blobs

    static let copyCases: [Case] = [
        Case("blobs a copy shares are freed only when both the source and the copy are deleted") { index in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            let source = ObjectRecord(
                bucket: "b", key: "src", size: 6, etag: "e-2", lastModified: t0, metadata: ObjectMetadata(), checksum: nil,
                segments: [BlobSegment(blobID: BlobID("s1"), size: 3), BlobSegment(blobID: BlobID("s2"), size: 3)])
            _ = try await index.putObject(source, condition: .always)
            var copy = source
            copy.key = "dst"
            let copied = try await index.putObject(
                copy, condition: .always, source: SharedSource(bucket: "b", key: "src", segments: source.segments))
            #expect(copied.freedBlobs.isEmpty)
            #expect(try await index.deleteObject(bucket: "b", key: "src").freedBlobs.isEmpty)
            #expect(try await index.isBlobReferenced(BlobID("s1")))
            #expect(try await index.isBlobReferenced(BlobID("s2")))
            let last = try await index.deleteObject(bucket: "b", key: "dst")
            #expect(Set(last.freedBlobs) == [BlobID("s1"), BlobID("s2")])
            #expect(last.freedBlobs.count == 2)
        },
        Case("a copy whose source was deleted or replaced meanwhile throws sourceChanged and records nothing") { index in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            try await index.createUpload(makeUpload("u1"))
            _ = try await index.putObject(ObjectIndexContract.record("b", "src", blob: "s"), condition: .always)
            let shared = SharedSource(bucket: "b", key: "src", segments: [BlobSegment(blobID: BlobID("s"), size: 3)])
            let copy = ObjectIndexContract.record("b", "dst", blob: "s")
            _ = try await index.deleteObject(bucket: "b", key: "src")
            await #expect(throws: StoreError.sourceChanged) { try await index.putObject(copy, condition: .always, source: shared) }
            await #expect(throws: StoreError.sourceChanged) {
                try await index.putPart(makePart(1, blob: "s", size: 3), bucket: "b", key: "k", uploadID: "u1", source: shared)
            }
            _ = try await index.putObject(ObjectIndexContract.record("b", "src", blob: "s-new"), condition: .always)
            await #expect(throws: StoreError.sourceChanged) { try await index.putObject(copy, condition: .always, source: shared) }
            let dst = try await index.object(bucket: "b", key: "dst")
            #expect(dst == nil)
            #expect(try await index.parts(bucket: "b", key: "k", uploadID: "u1", after: 0, limit: 10).isEmpty)
            #expect(try await index.isBlobReferenced(BlobID("s")) == false)
        },
        Case("deleteObjects removes the listed keys in one batch and returns each freed blob once") { index in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            for key in ["k1", "k2", "k3"] {
                _ = try await index.putObject(ObjectIndexContract.record("b", key, blob: "blob-\(key)"), condition: .always)
            }
            let shared = SharedSource(bucket: "b", key: "k3", segments: [BlobSegment(blobID: BlobID("blob-k3"), size: 3)])
            _ = try await index.putObject(ObjectIndexContract.record("b", "k3-copy", blob: "blob-k3"), condition: .always, source: shared)
            let freed = try await index.deleteObjects(
                bucket: "b", requests: ["k1", "k3", "missing", "k3-copy"].map { DeleteRequest(key: $0) }, bypassGovernance: false
            ).flatMap { try $0.get().freedBlobs }
            #expect(Set(freed) == [BlobID("blob-k1"), BlobID("blob-k3")])
            #expect(freed.count == 2)
            #expect(try await index.scan(bucket: "b", range: everything, limit: 10).map(\.key) == ["k2"])
            await #expect(throws: StoreError.noSuchBucket) {
                try await index.deleteObjects(bucket: "none", requests: [DeleteRequest(key: "k")], bypassGovernance: false)
            }
        },
    ]

    // MARK: Listing uploads

    static let listingCases: [Case] = [
        Case("uploads are listed by key, then ID (which starts with the creation time), after a key or key-and-ID marker") { index in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            try await index.createBucket(ObjectIndexContract.bucket("other"))
            for upload in [
                makeUpload("u3", key: "b", initiated: t0),
                makeUpload("u2", key: "a", initiated: t0.addingTimeInterval(10)),
                makeUpload("u1", key: "a", initiated: t0.addingTimeInterval(10)),
                makeUpload("u0", key: "a", initiated: t0.addingTimeInterval(20)),
                makeUpload("u9", key: "a", initiated: t0.addingTimeInterval(5)),
                makeUpload("ux", key: "a", bucket: "other"),
            ] {
                try await index.createUpload(upload)
            }
            let list = { (range: KeyRange, marker: UploadMarker?, limit: Int) in
                try await index.uploads(bucket: "b", range: range, after: marker, limit: limit).map(\.uploadID)
            }
            #expect(try await list(everything, nil, 10) == ["u0", "u1", "u2", "u9", "u3"])
            #expect(try await list(everything, nil, 2) == ["u0", "u1"])
            #expect(try await list(everything, nil, 0).isEmpty)
            #expect(try await list(everything, UploadMarker(key: "a", uploadID: nil), 10) == ["u3"])
            #expect(try await list(everything, UploadMarker(key: "a", uploadID: "u1"), 10) == ["u2", "u9", "u3"])
            #expect(try await list(everything, UploadMarker(key: "a", uploadID: "u0"), 2) == ["u1", "u2"])
            // A marker upload completed or aborted between pages still marks the place.
            #expect(try await list(everything, UploadMarker(key: "a", uploadID: "u15"), 10) == ["u2", "u9", "u3"])
            #expect(try await list(everything, UploadMarker(key: "0", uploadID: nil), 10) == ["u0", "u1", "u2", "u9", "u3"])
            #expect(try await list(KeyRange(lower: Array("b".utf8), lowerInclusive: true, upper: nil), nil, 10) == ["u3"])
            #expect(try await list(KeyRange(lower: [], lowerInclusive: true, upper: Array("b".utf8)), nil, 10) == ["u0", "u1", "u2", "u9"])

            // Paging with the last upload as the marker visits every upload once.
            var seen: [String] = []
            var marker: UploadMarker?
            while true {
                let page = try await index.uploads(bucket: "b", range: everything, after: marker, limit: 2)
                seen += page.map(\.uploadID)
                guard let last = page.last, page.count == 2 else { break }
                marker = UploadMarker(key: last.key, uploadID: last.uploadID)
            }
            #expect(seen == ["u0", "u1", "u2", "u9", "u3"])
            await #expect(throws: StoreError.noSuchBucket) { try await index.uploads(bucket: "none", range: everything, after: nil, limit: 1) }
        },
    ]
}
