import Foundation
import NIOCore
import ObjectStore
import Synchronization
import Testing

@testable import LocalStore

@Suite("FileBlobStore recovery")
struct FileBlobStoreRecoveryTests {
    /// Where a blob's file is, by the documented layout.
    static func path(of id: BlobID, in directory: String) -> String {
        "\(directory)/blobs/\(id.rawValue.prefix(2))/\(id.rawValue)"
    }

    @Test("removeTemporaryFiles empties tmp/ and leaves blobs alone")
    func removeTemporaryFiles() async throws {
        try await withBlobStore { store, directory in
            let kept = try await storeBlob(store, [[1, 2]])
            for name in ["0123456789abcdef0123456789abcdef", "partial", ".hidden"] {
                #expect(FileManager.default.createFile(atPath: "\(directory)/tmp/\(name)", contents: Data([1])))
            }
            // An interrupted writer's file, as a crash would leave it.
            _ = try await store.makeWriter()
            #expect(try store.removeTemporaryFiles() >= 3)
            #expect(contents(of: directory + "/tmp").isEmpty)
            #expect(fileExists(Self.path(of: kept, in: directory)))
            #expect(try store.removeTemporaryFiles() == 0)
        }
    }

    @Test("removeTemporaryFiles copes with more files than one batch")
    func removeManyTemporaryFiles() async throws {
        try await withBlobStore { store, directory in
            let count = FileBlobStore.walkBatchSize * 2 + 7
            for number in 0..<count {
                _ = FileManager.default.createFile(atPath: "\(directory)/tmp/file-\(number)", contents: nil)
            }
            let removed = try store.removeTemporaryFiles()
            #expect(removed == count)
            #expect(contents(of: directory + "/tmp").isEmpty)
        }
    }

    struct OrphanCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        /// Whether the blob's file is older than the cut-off.
        let old: Bool
        let referenced: Bool
        let removed: Bool
    }

    @Test(
        "removeOrphans deletes only old blobs no record refers to",
        arguments: [
            OrphanCase(testDescription: "old and unreferenced: removed", old: true, referenced: false, removed: true),
            OrphanCase(testDescription: "old and referenced: kept", old: true, referenced: true, removed: false),
            OrphanCase(testDescription: "new and unreferenced: kept", old: false, referenced: false, removed: false),
            OrphanCase(testDescription: "new and referenced: kept", old: false, referenced: true, removed: false),
        ])
    func removeOrphans(_ blob: OrphanCase) async throws {
        try await withBlobStore { store, directory in
            let cutoff = Date()
            let id = try await storeBlob(store, [[1, 2, 3]])
            let path = Self.path(of: id, in: directory)
            try setModificationDate(cutoff.addingTimeInterval(blob.old ? -3600 : 3600), of: path)
            let asked = Mutex<[BlobID]>([])
            let removed = try await store.removeOrphans(olderThan: cutoff) { candidate in
                asked.withLock { $0.append(candidate) }
                return blob.referenced
            }
            #expect(removed == (blob.removed ? 1 : 0))
            #expect(fileExists(path) == !blob.removed)
            // Blobs newer than the cut-off may be committed but not yet indexed: the index is not even asked.
            #expect(asked.withLock { $0 } == (blob.old ? [id] : []))
        }
    }

    @Test("removeOrphans walks every fan-out folder and large folders in batches")
    func removeManyOrphans() async throws {
        try await withBlobStore { store, directory in
            var referenced: Set<BlobID> = []
            var orphans = 0
            for number in 0..<40 {
                let id = try await storeBlob(store, [[UInt8(number)]])
                if number % 3 == 0 { referenced.insert(id) } else { orphans += 1 }
            }
            // More names in one folder than a batch holds, in the form the store gives its blobs.
            try FileManager.default.createDirectory(atPath: directory + "/blobs/ab", withIntermediateDirectories: true)
            let crowd = FileBlobStore.walkBatchSize + 100
            for number in 0..<crowd {
                let name = "ab" + String(repeating: "0", count: 30 - String(number, radix: 16).count) + String(number, radix: 16)
                _ = FileManager.default.createFile(atPath: "\(directory)/blobs/ab/\(name)", contents: nil)
            }
            let kept = referenced
            let removed = try await store.removeOrphans(olderThan: Date().addingTimeInterval(60)) { kept.contains($0) }
            #expect(removed == orphans + crowd)
            for id in referenced { #expect(fileExists(Self.path(of: id, in: directory))) }
            #expect(contents(of: directory + "/blobs/ab").allSatisfy { name in kept.contains(BlobID(name)) })
        }
    }

    @Test("removeOrphans leaves files and folders it did not make")
    func strangersLeftAlone() async throws {
        try await withBlobStore { store, directory in
            let strangers = [
                "blobs/README", "blobs/zz/0123456789abcdef0123456789abcdef", "blobs/ab/notes.txt",
                "blobs/ab/AB0123456789ABCDEF0123456789ABCD", "blobs/ab/cd0123456789abcdef0123456789abcd",
            ]
            for stranger in strangers {
                let path = directory + "/" + stranger
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            let removed = try await store.removeOrphans(olderThan: Date().addingTimeInterval(60)) { _ in false }
            #expect(removed == 0)
            for stranger in strangers { #expect(fileExists(directory + "/" + stranger), "\(stranger)") }
        }
    }

    @Test("removeOrphans stops at the first error from the index")
    func indexError() async throws {
        try await withBlobStore { store, directory in
            let id = try await storeBlob(store, [[1]])
            await #expect(throws: StoreError.ioFailure("index down")) {
                _ = try await store.removeOrphans(olderThan: Date().addingTimeInterval(60)) { _ in
                    throw StoreError.ioFailure("index down")
                }
            }
            #expect(fileExists(Self.path(of: id, in: directory)))
        }
    }
}
