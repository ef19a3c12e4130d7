import NIOCore
import Synchronization

/// The storage the API layer talks to: an index and a blob store, composed so that the index row is
/// committed last and blobs are deleted only once no record refers to them and no reader still needs them.
public struct Storage: Sendable {
    public let index: any StorageIndex
    public let blobs: any BlobStore
    let reclaimer: BlobReclaimer

    public init(index: any StorageIndex, blobs: any BlobStore) {
        self.index = index
        self.blobs = blobs
        self.reclaimer = BlobReclaimer(blobs: blobs)
    }

    public var lister: Lister { Lister(index: index) }
    public var uploadLister: UploadLister { UploadLister(index: index) }
    public var versionLister: VersionLister { VersionLister(index: index) }

    /// Stores `record`, whose blobs are already committed (or shared with `source`), if `condition` holds.
    /// On failure blobs written for it are freed; on success those the replaced object alone held are.
    /// - Returns: What changed: `stored` carries the version ID the index gave the record.
    @discardableResult
    public func putObject(
        _ record: ObjectRecord, condition: WriteCondition = .always, source: SharedSource? = nil
    ) async throws -> IndexChange {
        let change: IndexChange
        do {
            change = try await index.putObject(record, condition: condition, source: source)
        } catch {
            if source == nil { await reclaimer.free(record.segments.map(\.blobID)) }
            throw error
        }
        await reclaimer.free(change.freedBlobs)
        return change
    }

    /// Deletes a key's current object, or in a versioned bucket puts a delete marker (`stored`) on it.
    /// Deleting a missing key is not an error (S3 answers 204 either way).
    @discardableResult
    public func deleteObject(bucket: String, key: String) async throws -> IndexChange {
        let change = try await index.deleteObject(bucket: bucket, key: key)
        await reclaimer.free(change.freedBlobs)
        return change
    }

    /// Expires a key's current object if it is still `expected` (the lifecycle service's delete).
    @discardableResult
    public func expireCurrent(bucket: String, key: String, expected: ObjectRecord) async throws -> IndexChange {
        let change = try await index.expireCurrent(bucket: bucket, key: key, expected: expected)
        await reclaimer.free(change.freedBlobs)
        return change
    }

    /// Deletes one version of a key (`replaced`); a missing version is not an error. Throws
    /// ``StoreError/objectLocked`` if object lock protects it.
    @discardableResult
    public func deleteVersion(bucket: String, key: String, versionID: String, bypassGovernance: Bool = false) async throws -> IndexChange {
        let change = try await index.deleteVersion(bucket: bucket, key: key, versionID: versionID, bypassGovernance: bypassGovernance)
        await reclaimer.free(change.freedBlobs)
        return change
    }

    /// Deletes many keys or versions at once; missing ones are not an error, locked ones fail on their own.
    public func deleteObjects(
        bucket: String, requests: [DeleteRequest], bypassGovernance: Bool = false
    ) async throws -> [Result<IndexChange, StoreError>] {
        let outcomes = try await index.deleteObjects(bucket: bucket, requests: requests, bypassGovernance: bypassGovernance)
        await reclaimer.free(outcomes.flatMap { (try? $0.get())?.freedBlobs ?? [] })
        return outcomes
    }

    /// Deletes a bucket with no objects, aborting its multipart uploads.
    public func deleteBucket(named name: String) async throws {
        await reclaimer.free(try await index.deleteBucket(named: name))
    }

    /// Records an uploaded part. Blobs written for it are freed if it cannot be recorded.
    public func putPart(
        _ part: UploadedPart, bucket: String, key: String, uploadID: String, source: SharedSource? = nil
    ) async throws {
        let change: IndexChange
        do {
            change = try await index.putPart(part, bucket: bucket, key: key, uploadID: uploadID, source: source)
        } catch {
            if source == nil { await reclaimer.free(part.segments.map(\.blobID)) }
            throw error
        }
        await reclaimer.free(change.freedBlobs)
    }

    /// Completes an upload (see ``MultipartIndex/completeUpload(bucket:key:uploadID:condition:fingerprint:assemble:)``).
    public func completeUpload(
        bucket: String, key: String, uploadID: String, condition: WriteCondition = .always, fingerprint: String,
        assemble: @escaping @Sendable (MultipartUpload, [UploadedPart]) throws -> ObjectRecord
    ) async throws -> ObjectRecord {
        let (record, change) = try await index.completeUpload(
            bucket: bucket, key: key, uploadID: uploadID, condition: condition, fingerprint: fingerprint, assemble: assemble)
        await reclaimer.free(change.freedBlobs)
        return record
    }

    public func abortUpload(bucket: String, key: String, uploadID: String) async throws {
        let change = try await index.abortUpload(bucket: bucket, key: key, uploadID: uploadID)
        await reclaimer.free(change.freedBlobs)
    }

    /// Whether a reader holds a blob: the start-up orphan sweep leaves such blobs to the reader's unpin.
    public func isPinned(_ id: BlobID) -> Bool {
        reclaimer.isPinned(id)
    }

    /// Opens the current object under a key for reading. Throws ``StoreError/noSuchKey`` or ``StoreError/noSuchBucket``.
    public func openObject(bucket: String, key: String) async throws -> (ObjectRecord, ObjectReader) {
        try await open { try await index.object(bucket: bucket, key: key) }
    }

    /// Reads a record through `lookup` and pins its blobs, so that a writer replacing it meanwhile cannot delete
    /// them under the reader: the reader sees the object it looked up whole, never a mix.
    public func open(_ lookup: () async throws -> ObjectRecord?) async throws -> (ObjectRecord, ObjectReader) {
        var before = reclaimer.generation
        guard var record = try await lookup() else { throw StoreError.noSuchKey }
        while true {
            let ids = record.segments.map(\.blobID)
            let pinnedAt = reclaimer.pin(ids)
            if pinnedAt == before {
                return (record, ObjectReader(segments: record.segments, size: record.size, blobs: blobs, reclaimer: reclaimer))
            }
            // Something was freed since the lookup: the record may be gone, so read it again while pinned.
            before = pinnedAt
            let found: ObjectRecord?
            do { found = try await lookup() } catch {
                await reclaimer.unpin(ids)
                throw error
            }
            guard let current = found else {
                await reclaimer.unpin(ids)
                throw StoreError.noSuchKey
            }
            if current.segments == record.segments {
                // Same bytes, but a copy onto itself may have changed the metadata: report the current record.
                return (current, ObjectReader(segments: current.segments, size: current.size, blobs: blobs, reclaimer: reclaimer))
            }
            await reclaimer.unpin(ids)
            record = current
        }
    }
}

/// Reads an object's bytes across its segments, opening each segment's blob only when the read reaches it.
/// Its blobs stay pinned until ``close()``, or until the reader is dropped unclosed (a response whose body was
/// never written), so a forgotten reader cannot keep freed blobs on disk.
public final class ObjectReader: Sendable {
    let segments: [BlobSegment]
    public let size: Int64
    let blobs: any BlobStore
    let reclaimer: BlobReclaimer
    private let closed = Atomic<Bool>(false)

    init(segments: [BlobSegment], size: Int64, blobs: any BlobStore, reclaimer: BlobReclaimer) {
        self.segments = segments
        self.size = size
        self.blobs = blobs
        self.reclaimer = reclaimer
    }

    /// Calls `body` with the bytes of `range` in order, in pieces of at most `chunkSize`.
    ///
    /// With `sendFile`, a segment whose blob is a plain file is handed over as a descriptor (owned by
    /// `sendFile`), an offset and a length instead, for the kernel to send without copying it through memory.
    ///
    /// With `unsealer`, every blob is sealed and read through it (never sent as a file).
    public func read(
        range: Range<Int64>, chunkSize: Int, unsealer: (any BlobUnsealer)? = nil,
        sendFile: ((_ descriptor: CInt, _ offset: Int64, _ length: Int64) async throws -> Void)? = nil,
        _ body: (ByteBuffer) async throws -> Void
    ) async throws {
        for segment in segments.slice(range) {
            let reader = try await blobs.openReader(segment.blobID)
            if let unsealer {
                do {
                    try await unsealer.read(
                        reader, plaintext: segment.offset..<(segment.offset + segment.size), chunkSize: chunkSize, body)
                } catch {
                    await reader.close()
                    throw error
                }
                await reader.close()
                continue
            }
            if let sendFile, reader.size >= segment.offset + segment.size, let descriptor = reader.duplicateDescriptor() {
                do {
                    try await sendFile(descriptor, segment.offset, segment.size)
                } catch {
                    await reader.close()
                    throw error
                }
                await reader.close()
                continue
            }
            do {
                var offset = segment.offset
                let end = segment.offset + segment.size
                while offset < end {
                    let want = Int(min(Int64(chunkSize), end - offset))
                    let buffer = try await reader.read(offset: offset, maxLength: want)
                    guard buffer.readableBytes > 0 else { throw StoreError.ioFailure("blob shorter than its record") }
                    offset += Int64(buffer.readableBytes)
                    try await body(buffer)
                }
            } catch {
                await reader.close()
                throw error
            }
            await reader.close()
        }
    }

    /// The bytes of `range` in one buffer: for small ranges, whose blobs the store reads whole anyway.
    public func readWhole(range: Range<Int64>, unsealer: (any BlobUnsealer)? = nil) async throws -> ByteBuffer {
        var whole: ByteBuffer? = nil
        try await read(range: range, chunkSize: Int(range.count), unsealer: unsealer) { piece in
            if whole == nil {
                whole = piece
            } else {
                var piece = piece
                whole!.writeBuffer(&piece)
            }
        }
        return whole ?? ByteBuffer()
    }

    /// Releases the pins; later calls do nothing.
    public func close() async {
        guard closed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        await reclaimer.unpin(segments.map(\.blobID))
    }

    deinit {
        guard !closed.load(ordering: .acquiring) else { return }
        let (reclaimer, ids) = (reclaimer, segments.map(\.blobID))
        Task { await reclaimer.unpin(ids) }
    }
}
