import Foundation
import NIOCore
import Synchronization
import Testing

@testable import ObjectStore

/// Blobs in memory. Records every deletion and every blob opened, in order.
final class MemoryBlobStore: BlobStore {
    private struct State {
        var blobs: [BlobID: [UInt8]] = [:]
        var deleted: [BlobID] = []
        var opened: [BlobID] = []
        var written = 0
    }

    private let state = Mutex(State())

    var deleted: [BlobID] { state.withLock { $0.deleted } }
    var opened: [BlobID] { state.withLock { $0.opened } }

    @discardableResult
    func add(_ name: String, _ bytes: [UInt8]) -> BlobID {
        let id = BlobID(name)
        state.withLock { $0.blobs[id] = bytes }
        return id
    }

    func makeWriter() async throws -> any BlobWriter { MemoryBlobWriter(store: self) }

    func openReader(_ id: BlobID) async throws -> any BlobReader {
        let bytes: [UInt8]? = state.withLock { state in
            state.opened.append(id)
            return state.blobs[id]
        }
        guard let bytes else { throw StoreError.blobMissing(id) }
        return MemoryBlobReader(bytes: bytes)
    }

    func delete(_ id: BlobID) async throws {
        state.withLock { state in
            state.deleted.append(id)
            state.blobs[id] = nil
        }
    }

    fileprivate func commit(_ bytes: [UInt8]) -> BlobID {
        let name: String = state.withLock { state in
            state.written += 1
            return "written-\(state.written)"
        }
        return add(name, bytes)
    }
}

final class MemoryBlobWriter: BlobWriter {
    private let store: MemoryBlobStore
    private let bytes = Mutex<[UInt8]>([])

    init(store: MemoryBlobStore) { self.store = store }

    func write(_ buffer: ByteBuffer) async throws { bytes.withLock { $0 += buffer.readableBytesView } }
    func commit() async throws -> BlobID { store.commit(bytes.withLock { $0 }) }
    func abort() async {}
}

struct MemoryBlobReader: BlobReader {
    let bytes: [UInt8]
    var size: Int64 { Int64(bytes.count) }

    func read(offset: Int64, maxLength: Int) async throws -> ByteBuffer {
        let start = Int(min(max(offset, 0), size))
        let end = start + min(max(maxLength, 0), bytes.count - start)
        return ByteBuffer(bytes: bytes[start..<end])
    }

    func close() async {}
}

/// An index for tests of ``Storage`` that only read through ``Storage/open(_:)``: it refuses every call.
struct RefusingIndex: ObjectIndex, MultipartIndex, VersionIndex, BucketSettingsIndex, LifecycleIndex, NotificationIndex {
    static let refusal = StoreError.ioFailure("RefusingIndex")
    let eventSignal = EventSignal()

    func setNotification(_ configuration: NotificationConfiguration?, bucket: String, testEvents: [(targetARN: String, event: StoredEvent)]) async throws {
        throw Self.refusal
    }
    func notification(bucket: String) async throws -> NotificationConfiguration? { throw Self.refusal }
    func pendingEvents(limit: Int) async throws -> [OutboxEntry] { throw Self.refusal }
    func finishEvents(_ sequences: [Int64]) async throws { throw Self.refusal }
    func deferEvent(_ sequence: Int64, attempts: Int, nextAttempt: Date, error: String, deadLetter: Bool) async throws { throw Self.refusal }
    func failedEvents(limit: Int) async throws -> [OutboxEntry] { throw Self.refusal }
    func retryFailedEvents(_ sequences: [Int64]?) async throws -> Int { throw Self.refusal }
    func outboxDepth() async throws -> (pending: Int, failed: Int) { throw Self.refusal }
    func bucketUsage() async throws -> [BucketUsage] { throw Self.refusal }

    func createBucket(_ bucket: BucketInfo) async throws { throw Self.refusal }
    func bucket(named name: String) async throws -> BucketInfo? { throw Self.refusal }
    func listBuckets() async throws -> [BucketInfo] { throw Self.refusal }
    func deleteBucket(named name: String) async throws -> [BlobID] { throw Self.refusal }
    func object(bucket: String, key: String) async throws -> ObjectRecord? { throw Self.refusal }
    func putObject(_ record: ObjectRecord, condition: WriteCondition, source: SharedSource?) async throws -> IndexChange { throw Self.refusal }
    func deleteObject(bucket: String, key: String) async throws -> IndexChange { throw Self.refusal }
    func deleteObjects(bucket: String, requests: [DeleteRequest], bypassGovernance: Bool) async throws -> [Result<IndexChange, StoreError>] {
        throw Self.refusal
    }
    func setVersioning(_ state: VersioningState, bucket: String) async throws { throw Self.refusal }
    func objectVersion(bucket: String, key: String, versionID: String) async throws -> ObjectRecord? { throw Self.refusal }
    func latestVersion(bucket: String, key: String) async throws -> ObjectRecord? { throw Self.refusal }
    func deleteVersion(bucket: String, key: String, versionID: String, bypassGovernance: Bool) async throws -> IndexChange { throw Self.refusal }
    func setTags(_ tags: [ObjectTag], bucket: String, key: String, versionID: String?) async throws -> ObjectRecord? { throw Self.refusal }
    func setRetention(
        _ retention: ObjectRetention?, bucket: String, key: String, versionID: String?, bypassGovernance: Bool
    ) async throws -> ObjectRecord? { throw Self.refusal }
    func setLegalHold(_ on: Bool, bucket: String, key: String, versionID: String?) async throws -> ObjectRecord? { throw Self.refusal }
    func setObjectLock(_ configuration: ObjectLockConfiguration, bucket: String) async throws { throw Self.refusal }
    func setBucketTags(_ tags: [ObjectTag]?, bucket: String) async throws { throw Self.refusal }
    func bucketTags(bucket: String) async throws -> [ObjectTag]? { throw Self.refusal }
    func setLifecycle(_ configuration: LifecycleConfiguration?, bucket: String) async throws { throw Self.refusal }
    func lifecycle(bucket: String) async throws -> LifecycleConfiguration? { throw Self.refusal }
    func setBucketPolicy(_ policy: String?, bucket: String) async throws { throw Self.refusal }
    func setBucketACL(_ acl: AccessControlList?, bucket: String) async throws { throw Self.refusal }
    func setOwnership(_ ownership: ObjectOwnership?, bucket: String) async throws { throw Self.refusal }
    func setPublicAccessBlock(_ block: PublicAccessBlock?, bucket: String) async throws { throw Self.refusal }
    func setCORS(_ rules: [CORSRule]?, bucket: String) async throws { throw Self.refusal }
    func setWebsite(_ website: WebsiteConfiguration?, bucket: String) async throws { throw Self.refusal }
    func setBucketEncryption(_ encryption: BucketEncryption?, bucket: String) async throws { throw Self.refusal }
    func setObjectACL(_ acl: AccessControlList?, bucket: String, key: String, versionID: String?) async throws -> ObjectRecord? { throw Self.refusal }
    func bucketPolicy(bucket: String) async throws -> String? { throw Self.refusal }
    func dueLifecycleEntries(before date: Date, limit: Int) async throws -> [LifecycleEntry] { throw Self.refusal }
    func finishLifecycleEntry(_ entry: LifecycleEntry, next: Date?) async throws { throw Self.refusal }
    func history(bucket: String, key: String) async throws -> (versioned: Bool, versions: [ObjectRecord]) { throw Self.refusal }
    func expireCurrent(bucket: String, key: String, expected: ObjectRecord) async throws -> IndexChange { throw Self.refusal }
    func uploads(bucket: String, initiatedBefore date: Date, limit: Int) async throws -> [MultipartUpload] { throw Self.refusal }
    func setStorageClass(_ storageClass: String, bucket: String, key: String, versionID: String?) async throws { throw Self.refusal }
    func bucketsWithLifecycle() async throws -> [(bucket: String, configuration: LifecycleConfiguration)] { throw Self.refusal }
    func versions(bucket: String, range: KeyRange, after marker: VersionMarker?, limit: Int) async throws -> [VersionEntry] {
        throw Self.refusal
    }
    func scan(bucket: String, range: KeyRange, limit: Int) async throws -> [ObjectRecord] { throw Self.refusal }
    func isBlobReferenced(_ id: BlobID) async throws -> Bool { throw Self.refusal }
    func createUpload(_ upload: MultipartUpload) async throws { throw Self.refusal }
    func upload(bucket: String, key: String, uploadID: String) async throws -> MultipartUpload? { throw Self.refusal }
    func putPart(_ part: UploadedPart, bucket: String, key: String, uploadID: String, source: SharedSource?) async throws -> IndexChange {
        throw Self.refusal
    }
    func parts(bucket: String, key: String, uploadID: String, after: Int, limit: Int) async throws -> [UploadedPart] { throw Self.refusal }
    func completeUpload(
        bucket: String, key: String, uploadID: String, condition: WriteCondition, fingerprint: String,
        assemble: @escaping @Sendable (MultipartUpload, [UploadedPart]) throws -> ObjectRecord
    ) async throws -> (ObjectRecord, IndexChange) {
        throw Self.refusal
    }
    func completedUpload(bucket: String, key: String, uploadID: String) async throws -> CompletedUpload? { throw Self.refusal }
    func abortUpload(bucket: String, key: String, uploadID: String) async throws -> IndexChange { throw Self.refusal }
    func uploads(bucket: String, range: KeyRange, after marker: UploadMarker?, limit: Int) async throws -> [MultipartUpload] {
        throw Self.refusal
    }
}

@Suite("BlobReclaimer")
struct BlobReclaimerTests {
    @Test("freeing a blob no reader pinned deletes it at once")
    func freesUnpinned() async {
        let blobs = MemoryBlobStore()
        let reclaimer = BlobReclaimer(blobs: blobs)
        await reclaimer.free([blobs.add("a", [1]), blobs.add("b", [2])])
        #expect(blobs.deleted == [BlobID("a"), BlobID("b")])
    }

    @Test("a pinned blob is deleted at its last unpin, not before")
    func defersPinned() async {
        let blobs = MemoryBlobStore()
        let (a, b) = (blobs.add("a", [1]), blobs.add("b", [2]))
        let reclaimer = BlobReclaimer(blobs: blobs)
        _ = reclaimer.pin([a])
        _ = reclaimer.pin([a])
        await reclaimer.free([a, b])
        #expect(blobs.deleted == [b])
        await reclaimer.unpin([a])
        #expect(blobs.deleted == [b])
        await reclaimer.unpin([a])
        #expect(blobs.deleted == [b, a])
        await reclaimer.unpin([a])
        #expect(blobs.deleted == [b, a], "an extra unpin deletes nothing again")
    }

    @Test("unpinning a blob that was never freed deletes nothing")
    func unpinWithoutFree() async {
        let blobs = MemoryBlobStore()
        let reclaimer = BlobReclaimer(blobs: blobs)
        let a = blobs.add("a", [1])
        _ = reclaimer.pin([a])
        await reclaimer.unpin([a])
        #expect(blobs.deleted.isEmpty)
        await reclaimer.free([a])
        #expect(blobs.deleted == [a], "and once unpinned, a free deletes at once")
    }

    @Test("pin returns the generation; every non-empty free bumps it")
    func generations() async {
        let blobs = MemoryBlobStore()
        let reclaimer = BlobReclaimer(blobs: blobs)
        let start = reclaimer.generation
        #expect(reclaimer.pin([BlobID("x")]) == start)
        await reclaimer.free([BlobID("x")])
        #expect(reclaimer.generation == start + 1)
        #expect(reclaimer.pin([BlobID("y")]) == start + 1)
        await reclaimer.free([])
        #expect(reclaimer.generation == start + 1, "freeing nothing decides nothing")
        await reclaimer.free([BlobID("z")])
        #expect(reclaimer.pin([]) == start + 2)
    }
}

@Suite("BlobSegment slicing")
struct SegmentSliceTests {
    // Bytes 0..<10 are a[0..<10], 10..<15 are b[100..<105], 15..<35 are c[7..<27].
    static let segments = [
        BlobSegment(blobID: BlobID("a"), offset: 0, size: 10),
        BlobSegment(blobID: BlobID("b"), offset: 100, size: 5),
        BlobSegment(blobID: BlobID("c"), offset: 7, size: 20),
    ]

    @Test("a slice keeps the segments a range covers, trimmed, with offsets into their blobs")
    func slices() {
        let s = Self.segments
        #expect(s.slice(0..<35) == s)
        #expect(s.slice(0..<10) == [s[0]])
        #expect(s.slice(10..<15) == [s[1]])
        #expect(s.slice(5..<12) == [BlobSegment(blobID: BlobID("a"), offset: 5, size: 5), BlobSegment(blobID: BlobID("b"), offset: 100, size: 2)])
        #expect(s.slice(12..<13) == [BlobSegment(blobID: BlobID("b"), offset: 102, size: 1)])
        #expect(s.slice(14..<30) == [BlobSegment(blobID: BlobID("b"), offset: 104, size: 1), BlobSegment(blobID: BlobID("c"), offset: 7, size: 15)])
        #expect(s.slice(30..<100) == [BlobSegment(blobID: BlobID("c"), offset: 22, size: 5)])
        #expect(s.slice(3..<3).isEmpty)
        #expect(s.slice(35..<40).isEmpty)
    }

    @Test("empty segments never appear in a slice")
    func skipsEmpty() {
        let s = [BlobSegment(blobID: BlobID("empty"), size: 0), BlobSegment(blobID: BlobID("b"), size: 4)]
        #expect(s.slice(0..<4) == [s[1]])
        #expect(s.slice(0..<0).isEmpty)
    }
}

@Suite("Storage reading")
struct StorageReadingTests {
    static func record(_ segments: [BlobSegment]) -> ObjectRecord {
        ObjectRecord(
            bucket: "b", key: "k", size: segments.reduce(Int64(0)) { $0 + $1.size }, etag: "e",
            lastModified: Date(timeIntervalSince1970: 0), metadata: ObjectMetadata(), checksum: nil, segments: segments)
    }

    static func isIOFailure(_ error: StoreError?) -> Bool {
        switch error {
        case .ioFailure?: true
        default: false
        }
    }

    /// The bytes of `range` through `reader`, checking no piece exceeds `chunkSize`.
    static func collect(_ reader: ObjectReader, _ range: Range<Int64>, chunkSize: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        try await reader.read(range: range, chunkSize: chunkSize) { buffer in
            #expect(buffer.readableBytes > 0 && buffer.readableBytes <= chunkSize)
            bytes += buffer.readableBytesView
        }
        return bytes
    }

    @Test("reads any range across segments that start at offsets into their blobs")
    func rangesAcrossSegments() async throws {
        let blobs = MemoryBlobStore()
        let a = (0..<20).map { UInt8($0) }
        let b = (0..<50).map { UInt8(100 + $0) }
        let segments = [BlobSegment(blobID: blobs.add("a", a), offset: 5, size: 10), BlobSegment(blobID: blobs.add("b", b), offset: 20, size: 30)]
        let whole = Array(a[5..<15]) + Array(b[20..<50])
        let storage = Storage(index: RefusingIndex(), blobs: blobs)
        let (opened, reader) = try await storage.open { Self.record(segments) }
        #expect(opened.size == 40)
        for range in [0..<40, 0..<1, 8..<15, 3..<25, 10..<11, 39..<40, 12..<12] as [Range<Int64>] {
            #expect(try await Self.collect(reader, range, chunkSize: 4) == Array(whole[Int(range.lowerBound)..<Int(range.upperBound)]), "\(range)")
        }
        #expect(try await Self.collect(reader, 0..<40, chunkSize: 1 << 20) == whole)
        await reader.close()
    }

    @Test("only blobs the range reaches are opened")
    func opensLazily() async throws {
        let blobs = MemoryBlobStore()
        let segments = ["a", "b", "c"].map { BlobSegment(blobID: blobs.add($0, [1, 2, 3]), size: 3) }
        let storage = Storage(index: RefusingIndex(), blobs: blobs)
        let (_, reader) = try await storage.open { Self.record(segments) }
        #expect(try await Self.collect(reader, 4..<5, chunkSize: 8) == [2])
        #expect(blobs.opened == [BlobID("b")])
        await reader.close()
    }

    @Test("a missing blob is blobMissing; a blob shorter than its segment is an I/O failure")
    func brokenBlobs() async throws {
        let blobs = MemoryBlobStore()
        let storage = Storage(index: RefusingIndex(), blobs: blobs)
        let (_, missing) = try await storage.open { Self.record([BlobSegment(blobID: BlobID("gone"), size: 3)]) }
        await #expect(throws: StoreError.blobMissing(BlobID("gone"))) { try await Self.collect(missing, 0..<3, chunkSize: 8) }
        await missing.close()
        let (_, short) = try await storage.open { Self.record([BlobSegment(blobID: blobs.add("short", [1, 2]), offset: 1, size: 3)]) }
        let failure = await #expect(throws: StoreError.self) { try await Self.collect(short, 0..<3, chunkSize: 8) }
        #expect(Self.isIOFailure(failure), "\(String(describing: failure))")
        await short.close()
    }

    @Test("an open reader keeps its blobs through a free until it closes")
    func readerPins() async throws {
        let blobs = MemoryBlobStore()
        let segment = BlobSegment(blobID: blobs.add("a", [7, 8, 9]), size: 3)
        let storage = Storage(index: RefusingIndex(), blobs: blobs)
        let (_, reader) = try await storage.open { Self.record([segment]) }
        await storage.reclaimer.free([segment.blobID])
        #expect(blobs.deleted.isEmpty)
        #expect(try await Self.collect(reader, 0..<3, chunkSize: 8) == [7, 8, 9])
        await reader.close()
        #expect(blobs.deleted == [segment.blobID])
        await reader.close()
        #expect(blobs.deleted == [segment.blobID], "closing twice unpins once")
    }

    @Test("a free between the lookup and the pin makes open look the record up again")
    func retriesAfterFree() async throws {
        let blobs = MemoryBlobStore()
        let old = BlobSegment(blobID: blobs.add("old", [1, 2, 3]), size: 3)
        let new = BlobSegment(blobID: blobs.add("new", [4, 5]), size: 2)
        let storage = Storage(index: RefusingIndex(), blobs: blobs)
        var lookups = 0
        let (opened, reader) = try await storage.open {
            lookups += 1
            guard lookups == 1 else { return Self.record([new]) }
            // An overwrite commits and frees the old blob after this lookup read the old record.
            await storage.reclaimer.free([old.blobID])
            return Self.record([old])
        }
        #expect(lookups == 2)
        #expect(opened.segments == [new])
        #expect(blobs.deleted == [old.blobID])
        #expect(try await Self.collect(reader, 0..<2, chunkSize: 8) == [4, 5])
        await reader.close()
        await storage.reclaimer.free([new.blobID])
        #expect(blobs.deleted == [old.blobID, new.blobID], "the reader's pin is gone")
    }

    @Test("a key gone by the second lookup is noSuchKey, and leaves nothing pinned")
    func goneOnRetry() async throws {
        let blobs = MemoryBlobStore()
        let old = BlobSegment(blobID: blobs.add("old", [1]), size: 1)
        let storage = Storage(index: RefusingIndex(), blobs: blobs)
        var lookups = 0
        await #expect(throws: StoreError.noSuchKey) {
            try await storage.open {
                lookups += 1
                guard lookups == 1 else { return nil }
                await storage.reclaimer.free([BlobID("unrelated")])
                return Self.record([old])
            }
        }
        await storage.reclaimer.free([old.blobID])
        #expect(blobs.deleted == [BlobID("unrelated"), old.blobID])
        await #expect(throws: StoreError.noSuchKey) { try await storage.open { nil } }
    }

    @Test("a write the index refuses frees the blobs written for it, but never a copy's shared blobs")
    func refusedWrites() async throws {
        let blobs = MemoryBlobStore()
        let storage = Storage(index: RefusingIndex(), blobs: blobs)
        let written = Self.record([BlobSegment(blobID: blobs.add("written", [1]), size: 1)])
        await #expect(throws: RefusingIndex.refusal) { try await storage.putObject(written) }
        #expect(blobs.deleted == [BlobID("written")])
        let shared = Self.record([BlobSegment(blobID: blobs.add("shared", [1]), size: 1)])
        await #expect(throws: RefusingIndex.refusal) {
            try await storage.putObject(shared, source: SharedSource(bucket: "b", key: "src", segments: shared.segments))
        }
        #expect(blobs.deleted == [BlobID("written")])
    }
}
