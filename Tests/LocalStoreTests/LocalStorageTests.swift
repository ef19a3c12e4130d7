import Foundation
import NIOCore
import ObjectStore
import Testing

@testable import LocalStore

@Suite("LocalStorage")
struct LocalStorageTests {
    @Test("open creates the data folder and its layout")
    func layout() async throws {
        try await withTemporaryDirectory { root in
            let directory = root + "/nested/data"
            let storage = try LocalStorage.open(directory: directory)
            defer { try? storage.index.close() }
            #expect(contents(of: directory).filter { !$0.hasPrefix("index.sqlite-") } == ["blobs", "index.sqlite", "tmp"])
            #expect(storage.directory == directory)
        }
    }

    @Test("open clears interrupted uploads from tmp/")
    func clearsTemporaryFiles() async throws {
        try await withTemporaryDirectory { directory in
            try LocalStorage.open(directory: directory).index.close()
            _ = FileManager.default.createFile(atPath: directory + "/tmp/0123456789abcdef0123456789abcdef", contents: Data([1]))
            let storage = try LocalStorage.open(directory: directory)
            defer { try? storage.index.close() }
            #expect(contents(of: directory + "/tmp").isEmpty)
        }
    }

    @Test("a stored object survives closing and reopening the data folder")
    func reopen() async throws {
        try await withTemporaryDirectory { directory in
            let content = patternBytes(10_000)
            let record: ObjectRecord
            do {
                let storage = try LocalStorage.open(directory: directory)
                try await storage.index.createBucket(ObjectIndexContract.bucket("b"))
                let id = try await storeBlob(storage.blobs, [content])
                record = ObjectRecord(
                    bucket: "b", key: "k", size: Int64(content.count), etag: "e",
                    lastModified: ObjectIndexContract.sampleDate, metadata: ObjectMetadata(), checksum: nil,
                    segments: [BlobSegment(blobID: id, size: Int64(content.count))])
                _ = try await storage.index.putObject(record, condition: .ifAbsent)
                try storage.index.close()
            }
            let storage = try LocalStorage.open(directory: directory)
            defer { try? storage.index.close() }
            let found = try #require(try await storage.index.object(bucket: "b", key: "k"))
            #expect(found == record)
            let reader = try await storage.blobs.openReader(found.segments[0].blobID)
            #expect(try await readAll(reader) == content)
            await reader.close()
        }
    }

    @Test("removeOrphans deletes the blobs the index does not know and keeps the rest")
    func removeOrphans() async throws {
        try await withTemporaryDirectory { directory in
            let storage = try LocalStorage.open(directory: directory)
            defer { try? storage.index.close() }
            try await storage.index.createBucket(ObjectIndexContract.bucket("b"))
            let indexed = try await storeBlob(storage.blobs, [[1]])
            _ = try await storage.index.putObject(ObjectIndexContract.record("b", "k", blob: indexed.rawValue), condition: .always)
            // Committed, then the server died before the index write.
            let orphan = try await storeBlob(storage.blobs, [[2]])
            let replaced = try await storeBlob(storage.blobs, [[3]])
            _ = try await storage.index.putObject(ObjectIndexContract.record("b", "old", blob: replaced.rawValue), condition: .always)
            _ = try await storage.index.deleteObject(bucket: "b", key: "old")

            #expect(try await storage.removeOrphans(olderThan: Date().addingTimeInterval(60)) == 2)
            await #expect(throws: StoreError.blobMissing(orphan)) { _ = try await storage.blobs.openReader(orphan) }
            await #expect(throws: StoreError.blobMissing(replaced)) { _ = try await storage.blobs.openReader(replaced) }
            let reader = try await storage.blobs.openReader(indexed)
            await reader.close()
        }
    }
}
