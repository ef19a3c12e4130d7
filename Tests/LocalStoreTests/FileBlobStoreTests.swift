import Foundation
import NIOCore
import ObjectStore
import Testing

@testable import LocalStore

/// Runs `body` with a blob store in a new temporary data folder.
@discardableResult
func withBlobStore<T>(_ body: (FileBlobStore, String) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { directory in
        try await body(try FileBlobStore(directory: directory), directory)
    }
}

/// `count` bytes of a pattern that differs at every offset within 251 bytes, so a misplaced read shows.
func patternBytes(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 + seed) % 251) }
}

/// Writes `chunks` as one blob and commits it.
func storeBlob(_ store: FileBlobStore, _ chunks: [[UInt8]]) async throws -> BlobID {
    let writer = try await store.makeWriter()
    for chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
    return try await writer.commit()
}

/// Reads a whole blob in `step`-byte reads.
func readAll(_ reader: any BlobReader, step: Int = 64 * 1024) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    while true {
        let buffer = try await reader.read(offset: Int64(bytes.count), maxLength: step)
        if buffer.readableBytes == 0 { return bytes }
        bytes += buffer.readableBytesView
    }
}

@Suite("FileBlobStore")
struct FileBlobStoreTests {
    struct RangeCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let offset: Int64
        let maxLength: Int
        /// The slice of the blob the read must return.
        let expected: Range<Int>
    }

    static let blobSize = 300_000

    @Test(
        "reads back any range of a committed blob",
        arguments: [
            RangeCase(testDescription: "all of it", offset: 0, maxLength: blobSize, expected: 0..<blobSize),
            RangeCase(testDescription: "more than all of it", offset: 0, maxLength: 1 << 30, expected: 0..<blobSize),
            RangeCase(testDescription: "the first byte", offset: 0, maxLength: 1, expected: 0..<1),
            RangeCase(testDescription: "the middle", offset: 123_457, maxLength: 65_536, expected: 123_457..<188_993),
            RangeCase(testDescription: "the last byte", offset: Int64(blobSize - 1), maxLength: 10, expected: blobSize - 1..<blobSize),
            RangeCase(testDescription: "a tail shorter than asked", offset: 299_990, maxLength: 100, expected: 299_990..<blobSize),
            RangeCase(testDescription: "at the end", offset: Int64(blobSize), maxLength: 10, expected: blobSize..<blobSize),
            RangeCase(testDescription: "past the end", offset: Int64(blobSize) + 5, maxLength: 10, expected: blobSize..<blobSize),
            RangeCase(testDescription: "zero bytes", offset: 10, maxLength: 0, expected: 10..<10),
        ])
    func readRanges(_ read: RangeCase) async throws {
        try await withBlobStore { store, _ in
            let content = patternBytes(Self.blobSize)
            // Uneven chunks, so write boundaries fall inside the ranges read.
            let id = try await storeBlob(store, [Array(content[..<1]), Array(content[1..<100_003]), Array(content[100_003...])])
            let reader = try await store.openReader(id)
            #expect(reader.size == Int64(Self.blobSize))
            let buffer = try await reader.read(offset: read.offset, maxLength: read.maxLength)
            #expect(Array(buffer.readableBytesView) == Array(content[read.expected]))
            await reader.close()
        }
    }

    @Test("writes only a buffer's readable bytes, in order")
    func readableBytesOnly() async throws {
        try await withBlobStore { store, _ in
            var buffer = ByteBuffer(bytes: [9, 9, 9, 1, 2, 3])
            buffer.moveReaderIndex(forwardBy: 3)
            let writer = try await store.makeWriter()
            try await writer.write(buffer)
            try await writer.write(ByteBuffer())
            try await writer.write(ByteBuffer(bytes: [4, 5]))
            let reader = try await store.openReader(try await writer.commit())
            #expect(try await readAll(reader) == [1, 2, 3, 4, 5])
            await reader.close()
        }
    }

    @Test("commits an empty blob")
    func emptyBlob() async throws {
        try await withBlobStore { store, _ in
            let reader = try await store.openReader(try await storeBlob(store, []))
            #expect(reader.size == 0)
            #expect(try await reader.read(offset: 0, maxLength: 10).readableBytes == 0)
            await reader.close()
        }
    }

    @Test("puts a committed blob at blobs/<first two digits>/<id> and leaves tmp/ empty")
    func layout() async throws {
        try await withBlobStore { store, directory in
            let writer = try await store.makeWriter()
            try await writer.write(ByteBuffer(bytes: [1]))
            #expect(contents(of: directory + "/tmp").count == 1)
            let id = try await writer.commit()
            #expect(id.rawValue.count == 32 && id.rawValue.allSatisfy(\.isHexDigit))
            #expect(fileExists("\(directory)/blobs/\(id.rawValue.prefix(2))/\(id.rawValue)"))
            #expect(contents(of: directory + "/tmp").isEmpty)
        }
    }

    struct FinalBytesCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let written: [[UInt8]]
        let last: [UInt8]
    }

    @Test(
        "commit(appending:) stores the bytes written before and the last ones, in order",
        arguments: [
            FinalBytesCase(testDescription: "a small blob in the commit alone", written: [], last: patternBytes(4096)),
            FinalBytesCase(testDescription: "an empty blob", written: [], last: []),
            FinalBytesCase(testDescription: "written chunks, then the rest", written: [patternBytes(70_000), patternBytes(5, seed: 3)], last: patternBytes(999, seed: 7)),
            FinalBytesCase(testDescription: "written chunks, nothing left", written: [patternBytes(1000)], last: []),
        ])
    func commitAppending(_ blob: FinalBytesCase) async throws {
        try await withBlobStore { store, directory in
            let writer = try await store.makeWriter()
            for chunk in blob.written { try await writer.write(ByteBuffer(bytes: chunk)) }
            let id = try await writer.commit(appending: ByteBuffer(bytes: blob.last))
            let reader = try await store.openReader(id)
            #expect(try await readAll(reader) == blob.written.flatMap { $0 } + blob.last)
            await reader.close()
            #expect(contents(of: directory + "/tmp").isEmpty)
        }
    }

    @Test("a writer creates its file only when it first needs it; aborted before, it leaves nothing")
    func lazyCreation() async throws {
        try await withBlobStore { store, directory in
            let unused = try await store.makeWriter()
            #expect(contents(of: directory + "/tmp").isEmpty)
            await unused.abort()
            await #expect(throws: StoreError.self) { _ = try await unused.commit(appending: ByteBuffer(bytes: [1])) }
            #expect(contents(of: directory + "/tmp").isEmpty && contents(of: directory + "/blobs").isEmpty)
        }
    }

    @Test("a reader lends a descriptor of the blob's file that outlives the reader; none once closed")
    func duplicatedDescriptor() async throws {
        try await withBlobStore { store, _ in
            let content = patternBytes(100_000, seed: 5)
            let reader = try await store.openReader(try await storeBlob(store, [content]))
            let descriptor = try #require(reader.duplicateDescriptor())
            await reader.close()
            #expect(reader.duplicateDescriptor() == nil)
            var bytes = [UInt8](repeating: 0, count: 10)
            #expect(pread(descriptor, &bytes, 10, 50_000) == 10)
            #expect(bytes == Array(content[50_000..<50_010]))
            close(descriptor)
        }
    }

    @Test("gives every blob a new ID")
    func uniqueIDs() async throws {
        try await withBlobStore { store, _ in
            var ids: Set<BlobID> = []
            for _ in 0..<50 { ids.insert(try await storeBlob(store, [[1]])) }
            #expect(ids.count == 50)
        }
    }

    @Test("abort removes the temporary file and closes the writer for good")
    func abort() async throws {
        try await withBlobStore { store, directory in
            let writer = try await store.makeWriter()
            try await writer.write(ByteBuffer(bytes: patternBytes(1000)))
            await writer.abort()
            await writer.abort()
            #expect(contents(of: directory + "/tmp").isEmpty)
            #expect(contents(of: directory + "/blobs").isEmpty)
            await #expect(throws: StoreError.self) { try await writer.write(ByteBuffer(bytes: [1])) }
            await #expect(throws: StoreError.self) { _ = try await writer.commit() }
        }
    }

    @Test("abort after commit keeps the blob")
    func abortAfterCommit() async throws {
        try await withBlobStore { store, _ in
            let writer = try await store.makeWriter()
            try await writer.write(ByteBuffer(bytes: [7]))
            let id = try await writer.commit()
            await writer.abort()
            let reader = try await store.openReader(id)
            #expect(try await readAll(reader) == [7])
            await reader.close()
        }
    }

    @Test("abort cleans up even when the task is cancelled")
    func abortWhenCancelled() async throws {
        try await withBlobStore { store, directory in
            let writer = try await store.makeWriter()
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                await writer.abort()
            }
            await task.value
            #expect(contents(of: directory + "/tmp").isEmpty)
        }
    }

    @Test("a writer dropped without commit or abort leaves no temporary file")
    func droppedWriter() async throws {
        try await withBlobStore { store, directory in
            do {
                let writer = try await store.makeWriter()
                try await writer.write(ByteBuffer(bytes: [1]))
            }
            // The pool thread that ran the write may drop its hold on the writer a moment after we resume.
            for _ in 0..<100 where !contents(of: directory + "/tmp").isEmpty {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(contents(of: directory + "/tmp").isEmpty)
        }
    }

    @Test("an open reader keeps reading a blob deleted under it")
    func readAfterDelete() async throws {
        try await withBlobStore { store, _ in
            let content = patternBytes(200_000, seed: 3)
            let id = try await storeBlob(store, [content])
            let reader = try await store.openReader(id)
            try await store.delete(id)
            #expect(try await readAll(reader, step: 70_000) == content)
            await reader.close()
            await #expect(throws: StoreError.blobMissing(id)) { _ = try await store.openReader(id) }
        }
    }

    @Test(
        "opening a blob that is not there throws blobMissing",
        arguments: [
            "0123456789abcdef0123456789abcdef", "../../etc/passwd", "", "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcde", "ab/../../../../etc/passwd/000000",
        ])
    func missingBlob(_ raw: String) async throws {
        try await withBlobStore { store, _ in
            await #expect(throws: StoreError.blobMissing(BlobID(raw))) { _ = try await store.openReader(BlobID(raw)) }
        }
    }

    @Test("deleting a missing blob, twice, is not an error")
    func deleteMissing() async throws {
        try await withBlobStore { store, _ in
            let id = try await storeBlob(store, [[1]])
            try await store.delete(id)
            try await store.delete(id)
            try await store.delete(BlobID("../../etc/passwd"))
        }
    }

    @Test("a closed reader refuses reads, and closing twice is harmless")
    func closedReader() async throws {
        try await withBlobStore { store, _ in
            let reader = try await store.openReader(try await storeBlob(store, [[1, 2, 3]]))
            await reader.close()
            await reader.close()
            await #expect(throws: StoreError.self) { _ = try await reader.read(offset: 0, maxLength: 3) }
        }
    }

    @Test("concurrent reads of one reader each get their own range")
    func concurrentReads() async throws {
        try await withBlobStore { store, _ in
            let content = patternBytes(256 * 1024, seed: 1)
            let reader = try await store.openReader(try await storeBlob(store, [content]))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for slice in 0..<16 {
                    group.addTask {
                        let buffer = try await reader.read(offset: Int64(slice * 16384), maxLength: 16384)
                        #expect(Array(buffer.readableBytesView) == Array(content[slice * 16384..<(slice + 1) * 16384]))
                    }
                }
                try await group.waitForAll()
            }
            await reader.close()
        }
    }
}
