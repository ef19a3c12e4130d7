import Foundation
import LocalStore
import ObjectStore
import Testing

/// The versioning behaviour every ``StorageIndex`` must show (``VersionIndex`` with the object writes that make
/// versions), as named cases that each take a fresh, empty index; run on SQLite and on PostgreSQL below.
enum VersionIndexContract {
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

    static var cases: [Case] { stateCases + deleteCases + listingCases + metadataCases }

    // MARK: Fixtures

    static let everything = KeyRange(lower: [], lowerInclusive: true, upper: nil)

    static func versionedBucket(_ name: String) -> BucketInfo {
        BucketInfo(name: name, creationDate: ObjectIndexContract.sampleDate, region: "us-east-1", versioning: .enabled)
    }

    /// Stores a record of `key` in bucket "b" whose ETag and only blob are both `blob`; returns it as stored.
    @discardableResult
    static func put(_ index: any StorageIndex, _ key: String, _ blob: String, bucket: String = "b") async throws -> ObjectRecord {
        let change = try await index.putObject(
            ObjectIndexContract.record(bucket, key, etag: blob, blob: blob), condition: .always, source: nil)
        return try #require(change.stored)
    }

    /// The version IDs a listing returned, in order.
    static func ids(_ entries: [VersionEntry]) -> [String] {
        entries.map(\.record.versionName)
    }

    static func list(
        _ index: any StorageIndex, after marker: VersionMarker? = nil, range: KeyRange = everything, limit: Int = 100
    ) async throws -> [VersionEntry] {
        try await index.versions(bucket: "b", range: range, after: marker, limit: limit)
    }

    // MARK: Versioning states

    static let stateCases: [Case] = [
        Case("every versioning call on a missing bucket throws noSuchBucket") { index in
            await #expect(throws: StoreError.noSuchBucket) { try await index.setVersioning(.enabled, bucket: "none") }
            await #expect(throws: StoreError.noSuchBucket) { try await index.setVersioning(.suspended, bucket: "none") }
            await #expect(throws: StoreError.noSuchBucket) { _ = try await index.objectVersion(bucket: "none", key: "k", versionID: "null") }
            await #expect(throws: StoreError.noSuchBucket) { _ = try await index.latestVersion(bucket: "none", key: "k") }
            await #expect(throws: StoreError.noSuchBucket) {
                _ = try await index.deleteVersion(bucket: "none", key: "k", versionID: "null", bypassGovernance: false)
            }
            await #expect(throws: StoreError.noSuchBucket) {
                _ = try await index.versions(bucket: "none", range: everything, after: nil, limit: 10)
            }
            await #expect(throws: StoreError.noSuchBucket) { _ = try await index.setTags([], bucket: "none", key: "k", versionID: nil) }
        },
        Case("a bucket never versioned has only null versions: its objects, listed as latest without an ID") { index in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            let stored = try await put(index, "k", "b1")
            #expect(stored.versionID == nil)
            #expect(try await index.objectVersion(bucket: "b", key: "k", versionID: "null") == stored)
            #expect(try await index.objectVersion(bucket: "b", key: "k", versionID: VersionID.make(sequence: 1)) == nil)
            #expect(try await index.latestVersion(bucket: "b", key: "k") == nil)
            let listed = try await list(index)
            #expect(listed.map(\.record.key) == ["k"])
            #expect(listed.map(\.isLatest) == [true])
            #expect(listed.map(\.record.versionID) == [nil])

            let other = try await index.deleteVersion(bucket: "b", key: "k", versionID: VersionID.make(sequence: 1), bypassGovernance: false)
            #expect(other.replaced == nil && other.freedBlobs.isEmpty)
            #expect(try await index.object(bucket: "b", key: "k") == stored)
            let removed = try await index.deleteVersion(bucket: "b", key: "k", versionID: "null", bypassGovernance: false)
            #expect(removed.replaced == stored)
            #expect(removed.freedBlobs == [BlobID("b1")])
            #expect(try await index.object(bucket: "b", key: "k") == nil)
        },
        Case("enabling versioning turns existing objects into null versions that keep their blobs") { index in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            var old = try await put(index, "k", "old")
            try await index.setVersioning(.enabled, bucket: "b")
            #expect(try await index.bucket(named: "b")?.versioning == .enabled)
            old.versionID = VersionID.null
            #expect(try await index.object(bucket: "b", key: "k") == old)
            #expect(try await index.objectVersion(bucket: "b", key: "k", versionID: "null") == old)
            #expect(try await index.latestVersion(bucket: "b", key: "k") == old)

            let new = try await index.putObject(ObjectIndexContract.record("b", "k", etag: "new", blob: "new"), condition: .always, source: nil)
            let newID = try #require(new.stored?.versionID)
            #expect(newID != VersionID.null)
            #expect(new.replaced == old)
            #expect(new.freedBlobs.isEmpty, "the null version still holds the old blob")
            #expect(try await index.isBlobReferenced(BlobID("old")))
            // Enabling it again changes nothing.
            try await index.setVersioning(.enabled, bucket: "b")
            let listed = try await list(index)
            #expect(ids(listed) == [newID, "null"])
            #expect(listed.map(\.isLatest) == [true, false])

            let removed = try await index.deleteVersion(bucket: "b", key: "k", versionID: "null", bypassGovernance: false)
            #expect(removed.freedBlobs == [BlobID("old")])
            #expect(try await index.object(bucket: "b", key: "k")?.versionID == newID)
        },
        Case("an enabled bucket keeps every version, newest first, each under an ID of its own") { index in
            try await index.createBucket(versionedBucket("b"))
            var stored: [ObjectRecord] = []
            for blob in ["b1", "b2", "b3"] {
                let change = try await index.putObject(
                    ObjectIndexContract.record("b", "k", etag: blob, blob: blob), condition: .always, source: nil)
                #expect(change.replaced == stored.last)
                #expect(change.freedBlobs.isEmpty)
                stored.append(try #require(change.stored))
            }
            let versionIDs = stored.map(\.versionName)
            #expect(Set(versionIDs).count == 3)
            #expect(!versionIDs.contains(VersionID.null))
            #expect(try await index.object(bucket: "b", key: "k") == stored[2])
            #expect(try await index.latestVersion(bucket: "b", key: "k") == stored[2])
            for record in stored {
                #expect(try await index.objectVersion(bucket: "b", key: "k", versionID: record.versionName) == record)
                #expect(try await index.isBlobReferenced(record.segments[0].blobID))
            }
            #expect(try await index.objectVersion(bucket: "b", key: "k", versionID: "null") == nil)
            let listed = try await list(index)
            #expect(ids(listed) == versionIDs.reversed())
            #expect(listed.map(\.isLatest) == [true, false, false])
            #expect(listed.map(\.record.etag) == ["b3", "b2", "b1"])
        },
        Case("a suspended bucket writes null versions that replace one another and keeps the versions before") { index in
            try await index.createBucket(versionedBucket("b"))
            let first = try await put(index, "k", "b1")
            try await index.setVersioning(.suspended, bucket: "b")
            #expect(try await index.bucket(named: "b")?.versioning == .suspended)
            let n1 = try await index.putObject(ObjectIndexContract.record("b", "k", etag: "n1", blob: "n1"), condition: .always, source: nil)
            #expect(n1.stored?.versionID == VersionID.null)
            #expect(n1.replaced == first)
            #expect(n1.freedBlobs.isEmpty)
            let n2 = try await index.putObject(ObjectIndexContract.record("b", "k", etag: "n2", blob: "n2"), condition: .always, source: nil)
            #expect(n2.stored?.versionID == VersionID.null)
            #expect(n2.replaced == n1.stored)
            #expect(n2.freedBlobs == [BlobID("n1")], "the null version it replaced held the only reference")
            #expect(ids(try await list(index)) == ["null", first.versionName])

            let marker = try await index.deleteObject(bucket: "b", key: "k")
            #expect(marker.stored?.isDeleteMarker == true)
            #expect(marker.stored?.versionID == VersionID.null)
            #expect(marker.replaced == n2.stored)
            #expect(marker.freedBlobs == [BlobID("n2")])
            #expect(try await index.object(bucket: "b", key: "k") == nil)
            #expect(try await index.objectVersion(bucket: "b", key: "k", versionID: "null")?.isDeleteMarker == true)
            #expect(ids(try await list(index)) == ["null", first.versionName])

            _ = try await put(index, "k", "n3")
            try await index.setVersioning(.enabled, bucket: "b")
            let last = try await put(index, "k", "b4")
            let listed = try await list(index)
            #expect(ids(listed) == [last.versionName, "null", first.versionName])
            #expect(listed.map(\.record.etag) == ["b4", "n3", "b1"])
            #expect(listed.map(\.record.isDeleteMarker) == [false, false, false])
        },
    ]

    // MARK: Deleting

    static let deleteCases: [Case] = [
        Case("a delete in an enabled bucket stacks a delete marker and keeps every version") { index in
            try await index.createBucket(versionedBucket("b"))
            let first = try await put(index, "k", "b1")
            let deleted = try await index.deleteObject(bucket: "b", key: "k")
            let marker = try #require(deleted.stored)
            #expect(marker.isDeleteMarker)
            #expect(marker.versionName != VersionID.null && marker.versionName != first.versionName)
            #expect(deleted.replaced == first)
            #expect(deleted.freedBlobs.isEmpty)
            #expect(try await index.object(bucket: "b", key: "k") == nil)
            #expect(try await index.latestVersion(bucket: "b", key: "k")?.versionID == marker.versionID)
            #expect(try await index.latestVersion(bucket: "b", key: "k")?.isDeleteMarker == true)
            #expect(try await index.objectVersion(bucket: "b", key: "k", versionID: marker.versionName)?.isDeleteMarker == true)
            #expect(try await index.isBlobReferenced(BlobID("b1")))

            // Deleting again stacks another marker; there is no current object to replace.
            let again = try await index.deleteObject(bucket: "b", key: "k")
            #expect(again.replaced == nil && again.freedBlobs.isEmpty)
            let listed = try await list(index)
            #expect(ids(listed) == [try #require(again.stored?.versionName), marker.versionName, first.versionName])
            #expect(listed.map(\.record.isDeleteMarker) == [true, true, false])
            #expect(listed.map(\.isLatest) == [true, false, false])
        },
        Case("deleting the latest version restores the one before it; deleting a marker brings the object back") { index in
            try await index.createBucket(versionedBucket("b"))
            let v1 = try await put(index, "k", "b1")
            let v2 = try await put(index, "k", "b2")
            let removed = try await index.deleteVersion(bucket: "b", key: "k", versionID: v2.versionName, bypassGovernance: false)
            #expect(removed.replaced == v2)
            #expect(removed.freedBlobs == [BlobID("b2")])
            #expect(try await index.object(bucket: "b", key: "k") == v1)
            #expect(try await index.latestVersion(bucket: "b", key: "k") == v1)

            let marker = try #require(try await index.deleteObject(bucket: "b", key: "k").stored)
            #expect(try await index.object(bucket: "b", key: "k") == nil)
            let unmarked = try await index.deleteVersion(bucket: "b", key: "k", versionID: marker.versionName, bypassGovernance: false)
            #expect(unmarked.replaced?.isDeleteMarker == true)
            #expect(unmarked.freedBlobs.isEmpty)
            #expect(try await index.object(bucket: "b", key: "k") == v1)

            // An older version goes without touching the current one; a missing one is no error.
            let v3 = try await put(index, "k", "b3")
            #expect(try await index.deleteVersion(bucket: "b", key: "k", versionID: v1.versionName, bypassGovernance: false).freedBlobs == [BlobID("b1")])
            #expect(try await index.object(bucket: "b", key: "k") == v3)
            let missing = try await index.deleteVersion(bucket: "b", key: "k", versionID: v1.versionName, bypassGovernance: false)
            #expect(missing.replaced == nil && missing.freedBlobs.isEmpty)

            let last = try await index.deleteVersion(bucket: "b", key: "k", versionID: v3.versionName, bypassGovernance: false)
            #expect(last.freedBlobs == [BlobID("b3")])
            #expect(try await index.object(bucket: "b", key: "k") == nil)
            #expect(try await index.latestVersion(bucket: "b", key: "k") == nil)
            #expect(try await list(index).isEmpty)
            #expect(try await index.isBlobReferenced(BlobID("b3")) == false)
        },
        Case("deleteObjects deletes versions and keys in one batch, in a versioned bucket") { index in
            try await index.createBucket(versionedBucket("b"))
            let a1 = try await put(index, "a", "a1")
            let a2 = try await put(index, "a", "a2")
            _ = try await put(index, "c", "c1")
            let outcomes = try await index.deleteObjects(
                bucket: "b", requests: [DeleteRequest(key: "a", versionID: a2.versionName), DeleteRequest(key: "c")],
                bypassGovernance: false)
            let changes = try outcomes.map { try $0.get() }
            #expect(changes.map { $0.freedBlobs } == [[BlobID("a2")], []])
            #expect(changes[1].stored?.isDeleteMarker == true)
            #expect(try await index.object(bucket: "b", key: "a") == a1)
            #expect(try await index.object(bucket: "b", key: "c") == nil)
            #expect(try await list(index).map(\.record.isDeleteMarker) == [false, true, false])
        },
    ]

    // MARK: Listing

    static let listingCases: [Case] = [
        Case("versions are listed by key, newest first, after a key or a key-and-version marker, a page at a time") { index in
            try await index.createBucket(versionedBucket("b"))
            try await index.createBucket(versionedBucket("other"))
            _ = try await put(index, "a", "x", bucket: "other")
            let a = [try await put(index, "a", "a1"), try await put(index, "a", "a2"), try await put(index, "a", "a3")]
            let b1 = try await put(index, "b", "b1")
            let bm = try #require(try await index.deleteObject(bucket: "b", key: "b").stored)
            let c1 = try await put(index, "c", "c1")
            let all = [a[2], a[1], a[0], bm, b1, c1].map(\.versionName)
            let listed = try await list(index)
            #expect(ids(listed) == all)
            #expect(listed.map(\.isLatest) == [true, false, false, true, false, true])
            #expect(listed.map(\.record.key) == ["a", "a", "a", "b", "b", "c"])
            #expect(try await list(index, limit: 0).isEmpty)
            #expect(ids(try await list(index, limit: 2)) == Array(all[0..<2]))
            #expect(ids(try await list(index, after: VersionMarker(key: "a", versionID: nil))) == Array(all[3...]))
            #expect(ids(try await list(index, after: VersionMarker(key: "a", versionID: a[1].versionName))) == Array(all[2...]))
            #expect(ids(try await list(index, after: VersionMarker(key: "a", versionID: a[1].versionName), limit: 2)) == Array(all[2..<4]))
            #expect(ids(try await list(index, after: VersionMarker(key: "b", versionID: b1.versionName))) == [c1.versionName])
            #expect(ids(try await list(index, range: KeyRange(lower: Array("b".utf8), lowerInclusive: true, upper: nil))) == Array(all[3...]))
            #expect(ids(try await list(index, range: KeyRange(lower: [], lowerInclusive: true, upper: Array("b".utf8)))) == Array(all[0..<3]))

            // Paging with the last version as the marker visits every version once.
            var seen: [String] = []
            var marker: VersionMarker?
            while true {
                let page = try await list(index, after: marker, limit: 2)
                seen += ids(page)
                guard let last = page.last, page.count == 2 else { break }
                marker = VersionMarker(key: last.record.key, versionID: last.record.versionName)
            }
            #expect(seen == all)
        },
        Case("a marker version deleted between pages still marks the place") { index in
            try await index.createBucket(versionedBucket("b"))
            let a = [try await put(index, "a", "a1"), try await put(index, "a", "a2"), try await put(index, "a", "a3")]
            let b1 = try await put(index, "b", "b1")
            let first = try await list(index, limit: 2)
            #expect(ids(first) == [a[2].versionName, a[1].versionName])
            _ = try await index.deleteVersion(bucket: "b", key: "a", versionID: a[1].versionName, bypassGovernance: false)
            let marker = VersionMarker(key: "a", versionID: a[1].versionName)
            #expect(ids(try await list(index, after: marker)) == [a[0].versionName, b1.versionName])
            // The latest version deleted too: the marker still resumes after its place, not at the key's start.
            _ = try await index.deleteVersion(bucket: "b", key: "a", versionID: a[2].versionName, bypassGovernance: false)
            #expect(ids(try await list(index, after: VersionMarker(key: "a", versionID: a[2].versionName))) == [a[0].versionName, b1.versionName])
            #expect(try await list(index).map(\.isLatest) == [true, true])
        },
        Case("a null version marks its place by its row; an ID the key never had resumes after the key") { index in
            try await index.createBucket(versionedBucket("b"))
            let old = try await put(index, "k", "b1")
            try await index.setVersioning(.suspended, bucket: "b")
            _ = try await put(index, "k", "n1")
            let z = try await put(index, "z", "z1")
            #expect(ids(try await list(index)) == ["null", old.versionName, "null"])
            #expect(ids(try await list(index, after: VersionMarker(key: "k", versionID: "null"))) == [old.versionName, z.versionName])
            #expect(ids(try await list(index, after: VersionMarker(key: "k", versionID: "no-such-version"))) == [z.versionName])
        },
    ]

    // MARK: Per-version metadata

    static let metadataCases: [Case] = [
        Case("tags and ACLs change only the version named; the current object follows when it is that version") { index in
            try await index.createBucket(versionedBucket("b"))
            let v1 = try await put(index, "k", "b1")
            let v2 = try await put(index, "k", "b2")
            let old = [ObjectTag(key: "era", value: "old")]
            let tagged = try await index.setTags(old, bucket: "b", key: "k", versionID: v1.versionName)
            #expect(tagged?.versionID == v1.versionID && tagged?.metadata.tags == old)
            #expect(try await index.objectVersion(bucket: "b", key: "k", versionID: v1.versionName)?.metadata.tags == old)
            #expect(try await index.object(bucket: "b", key: "k")?.metadata.tags == nil)

            let now = [ObjectTag(key: "era", value: "now")]
            #expect(try await index.setTags(now, bucket: "b", key: "k", versionID: nil)?.versionID == v2.versionID)
            #expect(try await index.object(bucket: "b", key: "k")?.metadata.tags == now)
            #expect(try await index.objectVersion(bucket: "b", key: "k", versionID: v2.versionName)?.metadata.tags == now)
            let acl = AccessControlList(owner: "owner", grants: [])
            _ = try await index.setObjectACL(acl, bucket: "b", key: "k", versionID: v1.versionName)
            #expect(try await index.objectVersion(bucket: "b", key: "k", versionID: v1.versionName)?.metadata.acl == acl)
            #expect(try await index.object(bucket: "b", key: "k")?.metadata.acl == nil)
            #expect(try await index.setTags(now, bucket: "b", key: "k", versionID: VersionID.make(sequence: 99)) == nil)

            // Deleting the current version brings back v1 with the tags it was given.
            _ = try await index.deleteVersion(bucket: "b", key: "k", versionID: v2.versionName, bypassGovernance: false)
            #expect(try await index.object(bucket: "b", key: "k")?.metadata.tags == old)

            let marker = try #require(try await index.deleteObject(bucket: "b", key: "k").stored)
            let onMarker = try await index.setTags(now, bucket: "b", key: "k", versionID: marker.versionName)
            #expect(onMarker?.isDeleteMarker == true && onMarker?.metadata.tags == nil)
            #expect(try await index.setTags(now, bucket: "b", key: "k", versionID: nil) == nil)
        },
    ]
}

@Suite("SQLiteIndex versions")
struct VersionIndexTests {
    @Test("passes the versioning contract", arguments: VersionIndexContract.cases)
    func contract(_ check: VersionIndexContract.Case) async throws {
        try await withSQLiteIndex { index, _ in try await check.check(index) }
    }
}

@Suite("PostgresIndex versions", .enabled(if: PostgresTestServer.url != nil, "needs MARTLET_TEST_POSTGRES (make test provides it)"))
struct PostgresVersionIndexTests {
    @Test("passes the versioning contract", arguments: VersionIndexContract.cases)
    func contract(_ check: VersionIndexContract.Case) async throws {
        try await withPostgresIndex { index, _ in try await check.check(index) }
    }
}
