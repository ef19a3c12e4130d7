import Foundation
import Logging
import NIOCore
import NIOPosix
import ObjectStore

/// The embedded store in one data directory: an SQLite index and a folder of blob files.
///
/// On-disk layout of `<data>/`:
/// - `index.sqlite` (with `-wal` and `-shm` beside it): the ``SQLiteIndex``: buckets, the current record of
///   every key, and a reference count per blob.
/// - `blobs/xy/<id>`: object bytes, one file per blob (see ``FileBlobStore``); names are random IDs, never keys.
/// - `tmp/`: blobs being written; emptied at every start.
///
/// A PUT writes its body to `tmp/`, fsyncs it, renames it into `blobs/`, fsyncs the folder, and only then
/// records it in the index (itself fsynced on commit). A crash between the last two steps leaves an
/// unreferenced blob, which ``removeOrphans(olderThan:)`` collects.
public struct LocalStorage: Sendable {
    /// The data directory.
    public let directory: String
    /// The metadata index.
    public let index: SQLiteIndex
    /// The blob files.
    public let blobs: FileBlobStore

    /// Opens the data directory, creating it and its layout if missing, and clears `tmp/`.
    ///
    /// Blocking: call it at start-up, before serving requests.
    /// - Parameters:
    ///   - directory: The data directory; created (with its parent) if it does not exist.
    ///   - threadPool: Runs the blob store's file I/O; it must stay running while the storage is used. NIO's
    ///     shared blocking pool has one thread per core, so a few PUTs waiting in `fsync` hold up every GET's
    ///     reads; a server should pass a pool of its own with more threads (16 or so).
    ///   - logger: Told what start-up recovery did.
    ///   - faults: Makes chosen blob file calls fail, for tests of a failing disk.
    /// - Throws: ``StoreError/ioFailure(_:)``.
    public static func open(
        directory: String,
        threadPool: NIOThreadPool = .singleton,
        logger: Logger = Logger(label: "martlet.localstore"),
        faults: (any DiskFaultInjector)? = nil
    ) throws -> LocalStorage {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.ioFailure("creating data directory \(directory): \(error)")
        }
        let blobs = try FileBlobStore(directory: directory, threadPool: threadPool, faults: faults)
        let removed = try blobs.removeTemporaryFiles()
        if removed > 0 {
            logger.notice("removed interrupted uploads", metadata: ["count": "\(removed)", "directory": "\(directory)"])
        }
        let index = try SQLiteIndex(path: directory + "/index.sqlite")
        return LocalStorage(directory: directory, index: index, blobs: blobs)
    }

    /// Deletes blobs no record refers to that were last written before `cutoff` (pass the time the server
    /// started), walking `blobs/` in the background while the server serves.
    /// - Parameter isPinned: Whether a reader still holds a blob the index has just freed (``Storage/isPinned(_:)``);
    ///   such a blob is deleted by the reader's unpin, not here.
    /// - Returns: How many blobs it deleted.
    /// - Throws: ``StoreError/ioFailure(_:)``.
    public func removeOrphans(olderThan cutoff: Date, isPinned: @escaping @Sendable (BlobID) -> Bool = { _ in false }) async throws -> Int {
        let index = self.index
        return try await blobs.removeOrphans(olderThan: cutoff) { id in
            try await index.isBlobReferenced(id) || isPinned(id)
        }
    }
}
