import Foundation

/// What `martlet admin check` walks: every record that holds blobs, a page at a time in a fixed order, so a
/// check of any size runs in bounded memory.
public struct StoredItem: Sendable {
    /// An object or version; for a part of an upload in progress, a record with the part's size, ETag and
    /// segments and the upload's metadata (which says how it is sealed).
    public var record: ObjectRecord
    /// Set for a part: the upload and the part's number.
    public var part: (uploadID: String, number: Int)?

    public init(record: ObjectRecord, part: (uploadID: String, number: Int)? = nil) {
        self.record = record
        self.part = part
    }
}

/// Where a walk of ``StoredItemIndex/storedItems(after:limit:)`` resumes.
public enum StoredItemCursor: Sendable {
    case objects(bucket: String, key: Data)
    case versions(bucket: String, key: Data, seq: Int64)
    case parts(uploadID: String, number: Int)
}

/// An index whose records `martlet admin check` verifies against the blob files.
public protocol StoredItemIndex: ObjectIndex {
    /// The current objects of buckets never versioned, then every version of the others (delete markers hold no
    /// blob), then the parts of uploads in progress: at most `limit` from after `cursor`, and where to go on from
    /// (nil when done). Each page is a keyset seek, so a walk costs the same per page however large the index is.
    func storedItems(after cursor: StoredItemCursor?, limit: Int) async throws -> ([StoredItem], StoredItemCursor?)
    /// How many items ``storedItems(after:limit:)`` walks and their bytes, for a progress bar.
    func storedItemTotals() async throws -> (items: Int, bytes: Int64)
    /// Whether a blob file must stay: a record refers to it, or (where several nodes share the files) it was freed
    /// so recently that another node may still be reading it. A file for which this is false is an orphan.
    func isBlobRetained(_ id: BlobID) async throws -> Bool
}
