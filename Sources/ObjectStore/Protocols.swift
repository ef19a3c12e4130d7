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

/// What a write did to the index: the record it replaced, and the blobs no record refers to any more, which
/// the caller deletes. Reference counts are kept in the write's transaction, so a blob is listed here exactly
/// once, by the write that dropped its last reference.
public struct IndexChange: Sendable {
    /// The record the write replaced or removed (a delete of a version names that version).
    public var replaced: ObjectRecord?
    public var freedBlobs: [BlobID]
    /// The record the write stored, with the version ID the index gave it; a delete in a versioned bucket
    /// stores a delete marker.
    public var stored: ObjectRecord?

    public init(replaced: ObjectRecord? = nil, freedBlobs: [BlobID] = [], stored: ObjectRecord? = nil) {
        self.replaced = replaced
        self.freedBlobs = freedBlobs
        self.stored = stored
    }
}

/// One key (and optionally version) of a DeleteObjects request, and what deleting it did.
public struct DeleteRequest: Sendable, Equatable {
    public var key: String
    public var versionID: String?

    public init(key: String, versionID: String? = nil) {
        self.key = key
        self.versionID = versionID
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
    /// Deletes a bucket holding no objects, aborting its multipart uploads; returns the blobs that freed.
    /// Throws ``StoreError/noSuchBucket`` or ``StoreError/bucketNotEmpty``.
    func deleteBucket(named name: String) async throws -> [BlobID]

    /// The record of a key, or nil. Throws ``StoreError/noSuchBucket``.
    func object(bucket: String, key: String) async throws -> ObjectRecord?
    /// Checks `condition` against the current record and, in the same transaction, stores `record` in its place.
    /// With `source`, also checks that the source still has the segments `record` shares.
    /// Throws ``StoreError/noSuchBucket``, ``StoreError/preconditionFailed`` or ``StoreError/sourceChanged``.
    func putObject(_ record: ObjectRecord, condition: WriteCondition, source: SharedSource?) async throws -> IndexChange
    /// Deletes a key's current object (`replaced` is nil if there was none); in a versioned bucket, stores a
    /// delete marker as the latest version instead (`stored`). Throws ``StoreError/noSuchBucket``.
    func deleteObject(bucket: String, key: String) async throws -> IndexChange
    /// Deletes many keys or versions in one transaction, each as ``deleteObject(bucket:key:)`` or
    /// ``VersionIndex/deleteVersion(bucket:key:versionID:bypassGovernance:)`` would; a version object lock
    /// protects is refused on its own (``StoreError/objectLocked``) and the rest go ahead.
    /// Throws ``StoreError/noSuchBucket``.
    func deleteObjects(bucket: String, requests: [DeleteRequest], bypassGovernance: Bool) async throws -> [Result<IndexChange, StoreError>]
    /// Records whose keys fall in `range`, in byte order of key, at most `limit` of them, for listings: their
    /// `segments` and `parts` may be left empty. Must cost O(limit + log n): an index seek, never a scan of the bucket. Throws ``StoreError/noSuchBucket``.
    func scan(bucket: String, range: KeyRange, limit: Int) async throws -> [ObjectRecord]
    /// Whether any record still refers to a blob (used to collect orphans after a crash).
    func isBlobReferenced(_ id: BlobID) async throws -> Bool
}

extension ObjectIndex {
    /// Stores a record that shares no blobs; returns the record it replaced.
    @discardableResult
    public func putObject(_ record: ObjectRecord, condition: WriteCondition) async throws -> ObjectRecord? {
        try await putObject(record, condition: condition, source: nil).replaced
    }
}

/// Where a listing of multipart uploads resumes: after this key, or after this upload of it.
public struct UploadMarker: Sendable, Equatable {
    public var key: String
    public var uploadID: String?

    public init(key: String, uploadID: String?) {
        self.key = key
        self.uploadID = uploadID
    }
}

/// Multipart uploads in progress and their parts.
///
/// Implementations must make every method atomic and safe to call concurrently; part blobs are reference
/// counted together with object records, so completing an upload moves its parts' blobs into the object.
public protocol MultipartIndex: Sendable {
    /// Throws ``StoreError/noSuchBucket``.
    func createUpload(_ upload: MultipartUpload) async throws
    /// The upload, if it is in progress under this bucket and key.
    func upload(bucket: String, key: String, uploadID: String) async throws -> MultipartUpload?
    /// Records a part, replacing any earlier one of the same number. With `source`, also checks that the source
    /// object still has the segments the part shares.
    /// Throws ``StoreError/noSuchUpload`` or ``StoreError/sourceChanged``.
    func putPart(_ part: UploadedPart, bucket: String, key: String, uploadID: String, source: SharedSource?) async throws -> IndexChange
    /// Parts numbered above `after`, in order, at most `limit`. Throws ``StoreError/noSuchUpload``.
    func parts(bucket: String, key: String, uploadID: String, after: Int, limit: Int) async throws -> [UploadedPart]
    /// Turns an upload into the object under its key, in one transaction: `assemble` builds the record from the
    /// upload and all its parts (throwing to refuse), `condition` is checked against the current record, the
    /// upload and its parts are removed, blobs of parts `assemble` left out are freed, and a ``CompletedUpload``
    /// with `fingerprint` is kept for ``completedUpload(bucket:key:uploadID:)`` (receipts older than
    /// ``CompletedUpload/retention`` are dropped).
    /// Throws ``StoreError/noSuchUpload``, ``StoreError/preconditionFailed`` or what `assemble` throws.
    func completeUpload(
        bucket: String, key: String, uploadID: String, condition: WriteCondition, fingerprint: String,
        assemble: @escaping @Sendable (MultipartUpload, [UploadedPart]) throws -> ObjectRecord
    ) async throws -> (ObjectRecord, IndexChange)
    /// The receipt of an upload completed under this bucket and key within ``CompletedUpload/retention``.
    func completedUpload(bucket: String, key: String, uploadID: String) async throws -> CompletedUpload?
    /// Removes an upload and its parts. Throws ``StoreError/noSuchUpload``.
    func abortUpload(bucket: String, key: String, uploadID: String) async throws -> IndexChange
    /// Uploads of a bucket with keys in `range`, ordered by key, then ID (IDs sort in creation order), after `marker`,
    /// at most `limit`. Throws ``StoreError/noSuchBucket``.
    func uploads(bucket: String, range: KeyRange, after marker: UploadMarker?, limit: Int) async throws -> [MultipartUpload]
}

/// A version in a ListObjectVersions page.
public struct VersionEntry: Sendable, Equatable {
    public var record: ObjectRecord
    public var isLatest: Bool

    public init(record: ObjectRecord, isLatest: Bool) {
        self.record = record
        self.isLatest = isLatest
    }
}

/// Where a listing of versions resumes: after this key, or after this version of it.
public struct VersionMarker: Sendable, Equatable {
    public var key: String
    public var versionID: String?

    public init(key: String, versionID: String?) {
        self.key = key
        self.versionID = versionID
    }
}

/// Bucket versioning and the history of each key.
///
/// Once a bucket has a versioning state, every version of every key (delete markers included) is kept, newest
/// first; the current object stays one lookup away in ``ObjectIndex/object(bucket:key:)``.
public protocol VersionIndex: Sendable {
    /// Sets a bucket's versioning. The first time, the bucket's objects become its `null` versions.
    /// Throws ``StoreError/noSuchBucket``, or ``StoreError/invalidBucketState`` to suspend a bucket with object lock.
    func setVersioning(_ state: VersioningState, bucket: String) async throws
    /// A version of a key (`null` names the null version, in any bucket), delete markers included.
    /// Throws ``StoreError/noSuchBucket``.
    func objectVersion(bucket: String, key: String, versionID: String) async throws -> ObjectRecord?
    /// The newest version of a key in a versioned bucket, delete markers included. Throws ``StoreError/noSuchBucket``.
    func latestVersion(bucket: String, key: String) async throws -> ObjectRecord?
    /// Removes one version (`replaced`); if it was the latest, the next newest becomes current.
    /// Removing a missing version is not an error. Throws ``StoreError/noSuchBucket``, or
    /// ``StoreError/objectLocked`` if object lock protects the version (see ``ObjectMetadata/isLocked(at:bypassGovernance:)``).
    func deleteVersion(bucket: String, key: String, versionID: String, bypassGovernance: Bool) async throws -> IndexChange
    /// Replaces the tags of a version (the current object when `versionID` is nil) and returns the updated
    /// record, or nil if there is no such object or version. Throws ``StoreError/noSuchBucket``.
    func setTags(_ tags: [ObjectTag], bucket: String, key: String, versionID: String?) async throws -> ObjectRecord?
    /// Replaces the retention of a version (nil removes it), as ``setTags(_:bucket:key:versionID:)`` does tags.
    /// Throws ``StoreError/objectLocked``, changing nothing, unless
    /// ``ObjectRetention/mayReplace(_:with:at:bypassGovernance:)`` allows the change.
    func setRetention(
        _ retention: ObjectRetention?, bucket: String, key: String, versionID: String?, bypassGovernance: Bool
    ) async throws -> ObjectRecord?
    /// Turns a version's legal hold on or off, as ``setTags(_:bucket:key:versionID:)`` does tags.
    func setLegalHold(_ on: Bool, bucket: String, key: String, versionID: String?) async throws -> ObjectRecord?
    /// Replaces a version's ACL, as ``setTags(_:bucket:key:versionID:)`` does tags.
    func setObjectACL(_ acl: AccessControlList?, bucket: String, key: String, versionID: String?) async throws -> ObjectRecord?
    /// Versions with keys in `range`, by key, newest first, after `marker`, at most `limit`; a bucket never
    /// versioned lists its objects as null versions. Throws ``StoreError/noSuchBucket``.
    func versions(bucket: String, range: KeyRange, after marker: VersionMarker?, limit: Int) async throws -> [VersionEntry]
}

/// Per-bucket settings kept with the bucket: tags, the lifecycle configuration, object lock and the policy.
public protocol BucketSettingsIndex: Sendable {
    /// Replaces a bucket's tags (nil removes them). Throws ``StoreError/noSuchBucket``.
    func setBucketTags(_ tags: [ObjectTag]?, bucket: String) async throws
    /// A bucket's tags, nil if it has none. Throws ``StoreError/noSuchBucket``.
    func bucketTags(bucket: String) async throws -> [ObjectTag]?
    /// Replaces a bucket's lifecycle configuration (nil removes it). Throws ``StoreError/noSuchBucket``.
    func setLifecycle(_ configuration: LifecycleConfiguration?, bucket: String) async throws
    /// A bucket's lifecycle configuration, nil if it has none. Throws ``StoreError/noSuchBucket``.
    func lifecycle(bucket: String) async throws -> LifecycleConfiguration?
    /// Enables object lock on a bucket, or replaces its default retention; it cannot be disabled. Throws
    /// ``StoreError/noSuchBucket``, or ``StoreError/invalidBucketState`` unless versioning is Enabled.
    func setObjectLock(_ configuration: ObjectLockConfiguration, bucket: String) async throws
    /// Replaces a bucket's policy, JSON text as given (nil removes it). Throws ``StoreError/noSuchBucket``.
    func setBucketPolicy(_ policy: String?, bucket: String) async throws
    /// A bucket's policy text, nil if it has none. Throws ``StoreError/noSuchBucket``.
    func bucketPolicy(bucket: String) async throws -> String?
    /// Replaces a bucket's ACL. Throws ``StoreError/noSuchBucket``.
    func setBucketACL(_ acl: AccessControlList?, bucket: String) async throws
    /// Replaces a bucket's Object Ownership (nil removes the setting). Throws ``StoreError/noSuchBucket``.
    func setOwnership(_ ownership: ObjectOwnership?, bucket: String) async throws
    /// Replaces a bucket's Block Public Access settings (nil removes them). Throws ``StoreError/noSuchBucket``.
    func setPublicAccessBlock(_ block: PublicAccessBlock?, bucket: String) async throws
    /// Replaces a bucket's CORS rules (nil removes them). Throws ``StoreError/noSuchBucket``.
    func setCORS(_ rules: [CORSRule]?, bucket: String) async throws
    /// Replaces a bucket's website configuration (nil removes it). Throws ``StoreError/noSuchBucket``.
    func setWebsite(_ website: WebsiteConfiguration?, bucket: String) async throws
    /// Replaces a bucket's default encryption (nil removes it). Throws ``StoreError/noSuchBucket``.
    func setBucketEncryption(_ encryption: BucketEncryption?, bucket: String) async throws
}

/// A key the lifecycle service must look at once `due` has passed.
public struct LifecycleEntry: Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var due: Date

    public init(bucket: String, key: String, due: Date) {
        self.bucket = bucket
        self.key = key
        self.due = due
    }
}

/// What the lifecycle service needs: a queue of keys by due time, so a pass with nothing due costs one seek
/// however many objects there are. Every write to a key of a bucket with a lifecycle configuration queues the
/// key at once; the service works out the real due time from the rules and queues it again for then.
public protocol LifecycleIndex: Sendable {
    /// Entries due at or before `date`, oldest first, at most `limit`.
    func dueLifecycleEntries(before date: Date, limit: Int) async throws -> [LifecycleEntry]
    /// Removes a processed entry and, if `next` is given, queues the key again for then.
    func finishLifecycleEntry(_ entry: LifecycleEntry, next: Date?) async throws
    /// A key's versions, newest first (just the current object in a bucket never versioned), and whether the
    /// bucket is versioned. Throws ``StoreError/noSuchBucket``.
    func history(bucket: String, key: String) async throws -> (versioned: Bool, versions: [ObjectRecord])
    /// Expires the current object of a key (a delete marker in a versioned bucket) only if it is still
    /// `expected`, so an object written since is never expired by rules evaluated for its predecessor.
    func expireCurrent(bucket: String, key: String, expected: ObjectRecord) async throws -> IndexChange
    /// Changes the storage class a version reports (a lifecycle transition; there is no second tier).
    func setStorageClass(_ storageClass: String, bucket: String, key: String, versionID: String?) async throws
    /// Uploads of a bucket initiated before `date`, oldest first, at most `limit`: one seek.
    func uploads(bucket: String, initiatedBefore date: Date, limit: Int) async throws -> [MultipartUpload]
    /// Buckets that have a lifecycle configuration.
    func bucketsWithLifecycle() async throws -> [(bucket: String, configuration: LifecycleConfiguration)]
}

/// The index a ``Storage`` needs.
public typealias StorageIndex = ObjectIndex & MultipartIndex & VersionIndex & BucketSettingsIndex & LifecycleIndex
    & NotificationIndex

/// Writes one blob. Bytes become durable and visible to readers only through ``commit()``.
public protocol BlobWriter: Sendable {
    func write(_ buffer: ByteBuffer) async throws
    /// Flushes to stable storage and makes the blob readable under the returned ID.
    func commit() async throws -> BlobID
    /// Appends `last` and commits, in one step where the store can (a small blob then costs one trip to the
    /// disk's threads, not two).
    func commit(appending last: ByteBuffer) async throws -> BlobID
    /// Throws away what was written; safe to call after a failed write, and more than once.
    func abort() async
}

extension BlobWriter {
    public func commit(appending last: ByteBuffer) async throws -> BlobID {
        try await write(last)
        return try await commit()
    }
}

/// Reads one blob. Holds it open, so a reader keeps its bytes even if the blob is deleted meanwhile.
public protocol BlobReader: Sendable {
    var size: Int64 { get }
    /// Up to `maxLength` bytes from `offset`; an empty buffer at the end.
    func read(offset: Int64, maxLength: Int) async throws -> ByteBuffer
    /// As ``read(offset:maxLength:)``, into `spare`'s storage when the caller holds no other reference to it: a
    /// reader of many large pieces then allocates (and, past the allocator's mmap threshold, maps and faults in)
    /// memory once instead of per piece.
    func read(offset: Int64, maxLength: Int, reusing spare: ByteBuffer?) async throws -> ByteBuffer
    /// A new descriptor of the blob's file, owned by the caller, for the kernel to send from (`sendfile`); nil
    /// when the blob is not a plain file or its bytes must pass through ``read(offset:maxLength:)``.
    func duplicateDescriptor() -> CInt?
    func close() async
}

extension BlobReader {
    public func duplicateDescriptor() -> CInt? { nil }

    public func read(offset: Int64, maxLength: Int, reusing spare: ByteBuffer?) async throws -> ByteBuffer {
        try await read(offset: offset, maxLength: maxLength)
    }
}

/// Immutable blobs of bytes, written once, read many times, deleted when no record needs them.
public protocol BlobStore: Sendable {
    func makeWriter() async throws -> any BlobWriter
    /// Throws ``StoreError/blobMissing(_:)`` if there is no such blob.
    func openReader(_ id: BlobID) async throws -> any BlobReader
    /// Deleting a missing blob is not an error.
    func delete(_ id: BlobID) async throws
}
