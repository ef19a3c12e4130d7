import Foundation
import ObjectStore
import Testing

@testable import LocalStore
@testable import PostgresIndex

/// What every ``StoredItemIndex`` must do for `martlet admin check`: walk every record that holds blobs exactly once,
/// in a fixed order, a page at a time, resuming after a page's cursor whatever changed since; count what it walks;
/// and tell a blob a record still needs from an orphan.
enum StoredItemIndexContract {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let check: @Sendable (any StoredItemIndex & StorageIndex) async throws -> Void

        init(_ name: String, _ check: @escaping @Sendable (any StoredItemIndex & StorageIndex) async throws -> Void) {
            self.name = name
            self.check = check
        }

        var testDescription: String { name }
    }

    /// Bucket `alpha` never versioned, holding keys `z`, `a`, `é`; bucket `vers` versioned, with two versions of
    /// `x` and a delete marker over them, and one of `y`; upload `u1` of `alpha/up` with parts 1 and 2.
    static func stock(_ index: any StorageIndex) async throws {
        try await index.createBucket(ObjectIndexContract.bucket("alpha"))
        for key in ["z", "a", "é"] {
            _ = try await index.putObject(ObjectIndexContract.record("alpha", key), condition: .always, source: nil)
        }
        try await index.createBucket(ObjectIndexContract.bucket("vers"))
        try await index.setVersioning(.enabled, bucket: "vers")
        _ = try await index.putObject(ObjectIndexContract.record("vers", "x", blob: "x1"), condition: .always, source: nil)
        _ = try await index.putObject(ObjectIndexContract.record("vers", "x", blob: "x2"), condition: .always, source: nil)
        _ = try await index.deleteObject(bucket: "vers", key: "x")
        _ = try await index.putObject(ObjectIndexContract.record("vers", "y"), condition: .always, source: nil)
        try await index.createUpload(MultipartIndexContract.makeUpload("u1", key: "up", bucket: "alpha"))
        for number in 1...2 {
            _ = try await index.putPart(
                MultipartIndexContract.makePart(number, blob: "p\(number)"), bucket: "alpha", key: "up", uploadID: "u1", source: nil)
        }
    }

    /// Each item as `bucket/key`, with the blob of its first segment (versions of one key differ only in it) or the
    /// part number.
    static func describe(_ item: StoredItem) -> String {
        let name = "\(item.record.bucket)/\(item.record.key)"
        if let part = item.part { return "\(name) part \(part.number) of \(part.uploadID)" }
        return name + " " + (item.record.segments.first?.blobID.rawValue ?? "-")
    }

    /// Every item, walked `pageSize` at a time; also how many pages it took.
    static func walk(_ index: any StoredItemIndex, pageSize: Int) async throws -> (items: [String], pages: Int) {
        var items: [String] = []
        var pages = 0
        var cursor: StoredItemCursor?
        repeat {
            let (page, next) = try await index.storedItems(after: cursor, limit: pageSize)
            #expect(page.count <= pageSize)
            items += page.map(describe)
            pages += 1
            cursor = next
        } while cursor != nil && pages < 100
        return (items, pages)
    }

    static let everything = [
        "alpha/a blob-of-a", "alpha/z blob-of-z", "alpha/é blob-of-é",
        "vers/x x1", "vers/x x2", "vers/y blob-of-y",
        "alpha/up part 1 of u1", "alpha/up part 2 of u1",
    ]

    static let cases: [Case] = [
        Case("an empty index walks nothing and counts nothing") { index in
            let (items, _) = try await walk(index, pageSize: 10)
            #expect(items.isEmpty)
            let totals = try await index.storedItemTotals()
            #expect(totals.items == 0 && totals.bytes == 0)
        },
        Case("objects of unversioned buckets in byte order, then every version but delete markers, then parts") { index in
            try await stock(index)
            for pageSize in [1, 2, 3, 100] {
                let (items, _) = try await walk(index, pageSize: pageSize)
                #expect(items == everything, "pages of \(pageSize)")
            }
            let totals = try await index.storedItemTotals()
            #expect(totals.items == everything.count)
            #expect(totals.bytes == 6 * 3 + 2 * 5)
        },
        Case("a walk resumes after its cursor: what changed behind it is not seen again, what is ahead is") { index in
            try await stock(index)
            let (first, cursor) = try await index.storedItems(after: nil, limit: 2)
            #expect(first.map(describe) == ["alpha/a blob-of-a", "alpha/z blob-of-z"])
            _ = try await index.deleteObject(bucket: "alpha", key: "z")
            _ = try await index.putObject(ObjectIndexContract.record("alpha", "b"), condition: .always, source: nil)
            _ = try await index.putObject(ObjectIndexContract.record("alpha", "zz"), condition: .always, source: nil)
            var rest: [String] = []
            var next = cursor
            while let at = next {
                let (page, after) = try await index.storedItems(after: at, limit: 2)
                rest += page.map(describe)
                next = after
            }
            #expect(rest == ["alpha/zz blob-of-zz", "alpha/é blob-of-é"] + Array(everything.dropFirst(3)))
        },
        Case("a blob a record or part holds is retained; one nothing holds is an orphan") { index in
            try await stock(index)
            for blob in ["blob-of-a", "x1", "x2", "p2"] { #expect(try await index.isBlobRetained(BlobID(blob)), "\(blob)") }
            #expect(try await !index.isBlobRetained(BlobID("never-recorded")))
            _ = try await index.deleteObject(bucket: "alpha", key: "a")
            #expect(try await !index.isBlobReferenced(BlobID("blob-of-a")))
        },
    ]
}

@Suite("StoredItemIndex on SQLite")
struct SQLiteStoredItemTests {
    @Test("passes the StoredItemIndex contract", arguments: StoredItemIndexContract.cases)
    func contract(_ check: StoredItemIndexContract.Case) async throws {
        try await withSQLiteIndex { index, _ in try await check.check(index) }
    }
}

@Suite("StoredItemIndex on PostgreSQL", .enabled(if: PostgresTestServer.url != nil, "needs MARTLET_TEST_POSTGRES (make test provides it)"))
struct PostgresStoredItemTests {
    @Test("passes the StoredItemIndex contract", arguments: StoredItemIndexContract.cases)
    func contract(_ check: StoredItemIndexContract.Case) async throws {
        try await withPostgresIndex { index, _ in try await check.check(index) }
    }

    @Test("a freed blob waiting out its grace period in the graveyard is retained, though no record refers to it")
    func graveyard() async throws {
        try await withPostgresIndex { index, _ in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            _ = try await index.putObject(ObjectIndexContract.record("b", "k", blob: "old"), condition: .always, source: nil)
            let change = try await index.putObject(ObjectIndexContract.record("b", "k", blob: "new"), condition: .always, source: nil)
            #expect(change.freedBlobs == [BlobID("old")])
            #expect(try await !index.isBlobRetained(BlobID("old")), "freed, and not yet buried")
            try await index.bury(change.freedBlobs)
            #expect(try await index.isBlobRetained(BlobID("old")))
            #expect(try await !index.isBlobReferenced(BlobID("old")))
            try await index.forgetBuried(change.freedBlobs)
            #expect(try await !index.isBlobRetained(BlobID("old")))
        }
    }
}
