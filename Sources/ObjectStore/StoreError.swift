/// Errors a storage implementation throws. Each protocol method documents which ones.
public enum StoreError: Error, Sendable, Equatable {
    case noSuchBucket
    /// CreateBucket of a name that exists (this server has one owner, so it is always the caller's).
    case bucketAlreadyExists
    case bucketNotEmpty
    case noSuchKey
    case noSuchUpload
    /// A ``SharedSource`` changed before the copy could be recorded; the caller reads it again and retries.
    case sourceChanged
    /// Object lock forbids deleting or overwriting a version, or changing its retention that way.
    case objectLocked
    /// The bucket's state forbids the change (versioning and object lock depend on each other).
    case invalidBucketState
    /// A ``WriteCondition`` did not hold.
    case preconditionFailed
    /// The index names a blob the blob store does not have (it was replaced under a reader).
    case blobMissing(BlobID)
    /// The disk or database failed; the message is for logs, not clients.
    case ioFailure(String)
    /// The disk (or the index's) is full: nothing was stored, and the same request can succeed once space is freed.
    case insufficientStorage(String)
    /// A sealed blob failed authentication: its bytes on disk were altered, cut, or mixed with another blob's.
    /// Nothing from it is returned; the message is for logs.
    case integrityFailure(String)
    /// A key of the key service with that alias exists.
    case keyAlreadyExists
    /// The index's database cannot be reached now; nothing was done, and the same request can succeed once it is back.
    case unavailable(String)
}
