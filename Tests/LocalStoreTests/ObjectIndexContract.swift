import Foundation
import ObjectStore
import Testing

/// The behaviour every ``ObjectIndex`` must show, as named cases that each take a fresh, empty index.
///
/// Nothing here knows which implementation it tests: another one runs the same cases with
/// `@Test(arguments: ObjectIndexContract.cases) func contract(_ check: ObjectIndexContract.Case)` and its own
/// way of making an empty index.
enum ObjectIndexContract {
    /// One behaviour, checked against an empty index.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let check: @Sendable (any ObjectIndex) async throws -> Void

        init(_ name: String, _ check: @escaping @Sendable (any ObjectIndex) async throws -> Void) {
            self.name = name
            self.check = check
        }

        var testDescription: String { name }
    }

    static var cases: [Case] { bucketCases + objectCases + conditionCases + scanCases + blobReferenceCases }

    // MARK: Fixtures

    /// A time with whole milliseconds, which every index must keep exactly.
    static let sampleDate = Date(timeIntervalSince1970: 1_700_000_000.123)

    static func bucket(_ name: String, region: String = "us-east-1") -> BucketInfo {
        BucketInfo(name: name, creationDate: sampleDate, region: region)
    }

    /// A record whose one segment is blob `blob` (by default, a blob named after the key).
    static func record(
        _ bucket: String, _ key: String, etag: String = "d41d8cd98f00b204e9800998ecf8427e", blob: String? = nil
    ) -> ObjectRecord {
        ObjectRecord(
            bucket: bucket, key: key, size: 3, etag: etag, lastModified: sampleDate, metadata: ObjectMetadata(),
            checksum: nil, segments: [BlobSegment(blobID: BlobID(blob ?? "blob-of-\(key)"), size: 3)])
    }

    /// Keys as byte strings, so `==` doesn't treat canonically equivalent keys ("é" and "e" + U+0301) as one.
    static func bytes(_ keys: [String]) -> [[UInt8]] {
        keys.map { Array($0.utf8) }
    }

    static func bytes(_ records: [ObjectRecord]) -> [[UInt8]] {
        bytes(records.map(\.key))
    }

    // MARK: Buckets

    static let bucketCases: [Case] = [
        Case("a created bucket is found with its fields") { index in
            let created = bucket("photos", region: "eu-west-1")
            try await index.createBucket(created)
            #expect(try await index.bucket(named: "photos") == created)
        },
        Case("creating an existing bucket throws bucketAlreadyExists") { index in
            try await index.createBucket(bucket("photos"))
            await #expect(throws: StoreError.bucketAlreadyExists) {
                try await index.createBucket(bucket("photos", region: "eu-west-1"))
            }
            #expect(try await index.bucket(named: "photos")?.region == "us-east-1")
        },
        Case("a bucket that was never created is nil") { index in
            let found = try await index.bucket(named: "nothing")
            #expect(found == nil)
        },
        Case("buckets are listed in name order") { index in
            for name in ["zeta", "alpha", "m.2", "m-1", "a1", "b"] {
                try await index.createBucket(bucket(name))
            }
            #expect(try await index.listBuckets().map(\.name) == ["a1", "alpha", "b", "m-1", "m.2", "zeta"])
        },
        Case("an index with no buckets lists none") { index in
            let buckets = try await index.listBuckets()
            #expect(buckets.isEmpty)
        },
        Case("deleting a missing bucket throws noSuchBucket") { index in
            await #expect(throws: StoreError.noSuchBucket) { try await index.deleteBucket(named: "nothing") }
        },
        Case("a bucket with an object cannot be deleted until it is empty") { index in
            try await index.createBucket(bucket("photos"))
            _ = try await index.putObject(record("photos", "cat.jpg"), condition: .always)
            await #expect(throws: StoreError.bucketNotEmpty) { try await index.deleteBucket(named: "photos") }
            #expect(try await index.bucket(named: "photos") != nil)
            _ = try await index.deleteObject(bucket: "photos", key: "cat.jpg")
            try await index.deleteBucket(named: "photos")
            #expect(try await index.bucket(named: "photos") == nil)
        },
        Case("a deleted bucket is gone from the list and can be created again") { index in
            try await index.createBucket(bucket("a"))
            try await index.createBucket(bucket("b"))
            try await index.deleteBucket(named: "a")
            #expect(try await index.listBuckets().map(\.name) == ["b"])
            try await index.createBucket(bucket("a", region: "eu-west-1"))
            #expect(try await index.bucket(named: "a")?.region == "eu-west-1")
        },
    ]

    // MARK: Objects

    static let objectCases: [Case] = [
        Case("a stored record reads back with every field") { index in
            try await index.createBucket(bucket("b"))
            let full = ObjectRecord(
                bucket: "b", key: "photos/2024/cat.jpg", size: 10_485_763, etag: "9b2cf535f27731c974343645a3985328-2",
                lastModified: sampleDate,
                metadata: ObjectMetadata(
                    contentType: "image/jpeg", contentEncoding: "gzip", contentDisposition: "attachment",
                    contentLanguage: "en", cacheControl: "no-cache", expires: "Wed, 21 Oct 2015 07:28:00 GMT",
                    userMetadata: ["camera": "X100", "empty": "", "unicode": "日本"], storageClass: "STANDARD"),
                checksum: StoredChecksum(algorithm: "CRC32", value: "AAAAAA==-2", type: "COMPOSITE"),
                segments: [
                    BlobSegment(blobID: BlobID("part-1"), size: 5_242_880),
                    BlobSegment(blobID: BlobID("part-2"), size: 5_242_883),
                ])
            _ = try await index.putObject(full, condition: .always)
            #expect(try await index.object(bucket: "b", key: "photos/2024/cat.jpg") == full)
        },
        Case("a key never written is nil") { index in
            try await index.createBucket(bucket("b"))
            #expect(try await index.object(bucket: "b", key: "missing") == nil)
        },
        Case("the first put of a key replaces nothing") { index in
            try await index.createBucket(bucket("b"))
            #expect(try await index.putObject(record("b", "k"), condition: .always) == nil)
        },
        Case("a put returns the record it replaced, and the new one is current") { index in
            try await index.createBucket(bucket("b"))
            let first = record("b", "k", etag: "1", blob: "blob-1")
            let second = record("b", "k", etag: "2", blob: "blob-2")
            _ = try await index.putObject(first, condition: .always)
            #expect(try await index.putObject(second, condition: .always) == first)
            #expect(try await index.object(bucket: "b", key: "k") == second)
        },
        Case("a delete returns the record and removes it") { index in
            try await index.createBucket(bucket("b"))
            let stored = record("b", "k")
            _ = try await index.putObject(stored, condition: .always)
            #expect(try await index.deleteObject(bucket: "b", key: "k").replaced == stored)
            #expect(try await index.object(bucket: "b", key: "k") == nil)
            #expect(try await index.deleteObject(bucket: "b", key: "k").replaced == nil)
        },
        Case("the same key in two buckets names two objects") { index in
            try await index.createBucket(bucket("one"))
            try await index.createBucket(bucket("two"))
            _ = try await index.putObject(record("one", "k", etag: "1"), condition: .always)
            _ = try await index.putObject(record("two", "k", etag: "2"), condition: .always)
            _ = try await index.deleteObject(bucket: "one", key: "k")
            #expect(try await index.object(bucket: "two", key: "k")?.etag == "2")
        },
        Case("keys that differ only in Unicode normalization are different keys") { index in
            try await index.createBucket(bucket("b"))
            let composed = "caf\u{E9}"  // é as one scalar
            let decomposed = "cafe\u{301}"  // e + combining acute: == in Swift, different bytes in S3
            _ = try await index.putObject(record("b", composed, etag: "nfc"), condition: .always)
            #expect(try await index.putObject(record("b", decomposed, etag: "nfd"), condition: .ifAbsent) == nil)
            let all = try await index.scan(bucket: "b", range: KeyRange(lower: [], lowerInclusive: true, upper: nil), limit: 10)
            #expect(bytes(all) == bytes([decomposed, composed]))
            #expect(all.map(\.etag) == ["nfd", "nfc"])
        },
        Case("every object call on a missing bucket throws noSuchBucket") { index in
            let everything = KeyRange(lower: [], lowerInclusive: true, upper: nil)
            await #expect(throws: StoreError.noSuchBucket) { _ = try await index.object(bucket: "none", key: "k") }
            await #expect(throws: StoreError.noSuchBucket) {
                _ = try await index.putObject(record("none", "k"), condition: .always)
            }
            await #expect(throws: StoreError.noSuchBucket) {
                _ = try await index.putObject(record("none", "k"), condition: .ifAbsent)
            }
            await #expect(throws: StoreError.noSuchBucket) { _ = try await index.deleteObject(bucket: "none", key: "k") }
            await #expect(throws: StoreError.noSuchBucket) {
                _ = try await index.scan(bucket: "none", range: everything, limit: 10)
            }
        },
    ]

    // MARK: Blob references

    static let blobReferenceCases: [Case] = [
        Case("a blob is referenced while a record holds it") { index in
            try await index.createBucket(bucket("b"))
            #expect(try await index.isBlobReferenced(BlobID("x")) == false)
            _ = try await index.putObject(record("b", "k", blob: "x"), condition: .always)
            #expect(try await index.isBlobReferenced(BlobID("x")))
            _ = try await index.putObject(record("b", "k", blob: "y"), condition: .always)
            #expect(try await index.isBlobReferenced(BlobID("x")) == false)
            #expect(try await index.isBlobReferenced(BlobID("y")))
            _ = try await index.deleteObject(bucket: "b", key: "k")
            #expect(try await index.isBlobReferenced(BlobID("y")) == false)
        },
        Case("every segment of a multipart record is referenced") { index in
            try await index.createBucket(bucket("b"))
            var multipart = record("b", "k")
            multipart.segments = (1...3).map { BlobSegment(blobID: BlobID("part-\($0)"), size: 1) }
            _ = try await index.putObject(multipart, condition: .always)
            for part in 1...3 { #expect(try await index.isBlobReferenced(BlobID("part-\(part)"))) }
            _ = try await index.deleteObject(bucket: "b", key: "k")
            for part in 1...3 { #expect(try await index.isBlobReferenced(BlobID("part-\(part)")) == false) }
        },
        Case("a blob two records share stays referenced until both are gone") { index in
            try await index.createBucket(bucket("b"))
            _ = try await index.putObject(record("b", "one", blob: "shared"), condition: .always)
            _ = try await index.putObject(record("b", "two", blob: "shared"), condition: .always)
            _ = try await index.deleteObject(bucket: "b", key: "one")
            #expect(try await index.isBlobReferenced(BlobID("shared")))
            _ = try await index.deleteObject(bucket: "b", key: "two")
            #expect(try await index.isBlobReferenced(BlobID("shared")) == false)
        },
        Case("re-putting a record with the same blob keeps it referenced") { index in
            try await index.createBucket(bucket("b"))
            _ = try await index.putObject(record("b", "k", etag: "1", blob: "same"), condition: .always)
            _ = try await index.putObject(record("b", "k", etag: "2", blob: "same"), condition: .always)
            #expect(try await index.isBlobReferenced(BlobID("same")))
            _ = try await index.deleteObject(bucket: "b", key: "k")
            #expect(try await index.isBlobReferenced(BlobID("same")) == false)
        },
        Case("a failed conditional put changes no reference") { index in
            try await index.createBucket(bucket("b"))
            _ = try await index.putObject(record("b", "k", blob: "kept"), condition: .always)
            await #expect(throws: StoreError.preconditionFailed) {
                _ = try await index.putObject(record("b", "k", blob: "rejected"), condition: .ifAbsent)
            }
            #expect(try await index.isBlobReferenced(BlobID("kept")))
            #expect(try await index.isBlobReferenced(BlobID("rejected")) == false)
        },
    ]
}
