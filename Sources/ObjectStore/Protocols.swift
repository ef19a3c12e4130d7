import Foundation
import NIOCore

/// A range of keys compared as UTF-8 bytes (S3's order).
public struct KeyRange: Sendable, Equatable {
    /// Keys must be greater than (or, if `lowerInclusive`, equal to) these bytes.
    public var lower: [UInt8]
    public var lowerInclusive: Bool
    /// Keys must be less than these bytes; nil for no bound.
    public var upper: [UInt8]?

    public init(lower: [UInt8], lowerInclusive: Bool, upper: [UInt8]?) {
        self.lower = lower
        self.lowerInclusive = lowerInclusive
        self.upper = upper
    }

    public func contains(_ key: [UInt8]) -> Bool {
        let aboveLower = lowerInclusive ? !key.lexicographicallyPrecedes(lower) : lower.lexicographicallyPrecedes(key)
        guard aboveLower else { return false }
        if let upper { return key.lexicographicallyPrecedes(upper) }
        return true
    }
}

/// The metadata index: buckets and the current record of each key.
///
/// Implementations must make every method atomic and safe to call concurrently.
public protocol ObjectIndex: Sendable {
    /// Throws ``StoreError/bucketAlreadyExists``.
    func createBucket(_ bucket: BucketInfo) async throws
    func bucket(named name: String) async throws -> BucketInfo?
    /// All buckets, ordered by name.
    func listBuckets() async throws -> [BucketInfo]
    /// Throws ``StoreError/noSuchBucket`` or ``StoreError/bucketNotEmpty``.
    func deleteBucket(named name: String) async throws

    /// The record of a key, or nil. Throws ``StoreError/noSuchBucket``.
    func object(bucket: String, key: String) async throws -> ObjectRecord?
    /// Checks `condition` against the current record and, in the same transaction, stores `record` in its place.
    /// Returns the record it replaced, whose blobs the caller frees.
    /// Throws ``StoreError/noSuchBucket`` or ``StoreError/preconditionFailed``.
    func putObject(_ record: ObjectRecord, condition: WriteCondition) async throws -> ObjectRecord?
    /// Removes a key's record and returns it (nil if there was none). Throws ``StoreError/noSuchBucket``.
    func deleteObject(bucket: String, key: String) async throws -> ObjectRecord?
    /// Records whose keys fall in `range`, in byte order of key, at most `limit` of them.
    /// Must cost O(limit + log n): an index seek, never a scan of the bucket. Throws ``StoreError/noSuchBucket``.
    func scan(bucket: String, range: KeyRange, limit: Int) async throws -> [ObjectRecord]
    /// Whether any record still refers to a blob (used to collect orphans after a crash).
    func isBlobReferenced(_ id: BlobID) async throws -> Bool
}

/// Writes one blob. Bytes become durable and visible to readers only through ``commit()``.
public protocol BlobWriter: Sendable {
    func write(_ buffer: ByteBuffer) async throws
    /// Flushes to stable storage and makes the blob readable under the returned ID.
    func commit() async throws -> BlobID
    /// Throws away what was written; safe to call after a failed write, and more than once.
    func abort() async
}

/// Reads one blob. Holds it open, so a reader keeps its bytes even if the blob is deleted meanwhile.
public protocol BlobReader: Sendable {
    var size: Int64 { get }
    /// Up to `maxLength` bytes from `offset`; an empty buffer at the end.
    func read(offset: Int64, maxLength: Int) async throws -> ByteBuffer
    func close() async
}

/// Immutable blobs of bytes, written once, read many times, deleted when no record needs them.
public protocol BlobStore: Sendable {
    func makeWriter() async throws -> any BlobWriter
    /// Throws ``StoreError/blobMissing(_:)`` if there is no such blob.
    func openReader(_ id: BlobID) async throws -> any BlobReader
    /// Deleting a missing blob is not an error.
    func delete(_ id: BlobID) async throws
}
