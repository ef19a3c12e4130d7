#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ObjectStore

extension FileBlobStore {
    /// How many names one thread-pool call reads from a folder, bounding the memory a walk needs.
    static let walkBatchSize = 512

    /// Deletes everything in `tmp/`: blobs whose writing a crash or kill interrupted.
    ///
    /// Blocking: call it at start-up, before any writer exists, since it would delete a writer's file.
    /// Folders in `tmp/` (which the store never makes) are left alone.
    /// - Returns: How many files it removed.
    /// - Throws: ``StoreError/ioFailure(_:)``.
    @discardableResult
    public func removeTemporaryFiles() throws -> Int {
        let stream = try DirectoryStream(path: temporaryDirectory)
        var removed = 0
        while true {
            let names = try stream.next(limit: Self.walkBatchSize)
            if names.isEmpty { return removed }
            for name in names {
                let path = temporaryDirectory + "/" + name
                if unlink(path) == 0 {
                    removed += 1
                } else if errno != ENOENT && errno != EISDIR && errno != EPERM {
                    throw POSIX.failure("unlink", path)
                }
            }
        }
    }

    /// Deletes blob files that no record refers to and that were last written before `cutoff`.
    ///
    /// Meant to run in the background at start-up while the server already accepts writes, with `cutoff` the
    /// time the server started: a blob written since then may be committed but not yet indexed, and its
    /// modification time keeps it safe. A blob older than that with no record is left over from a crash
    /// between commit and index write, or from a deletion a power cut undid.
    ///
    /// Walks `blobs/` a batch of names at a time, so memory stays bounded however many blobs there are.
    /// - Parameters:
    ///   - cutoff: Only blobs last modified before this are candidates.
    ///   - isReferenced: Whether the index still refers to a blob (``ObjectIndex/isBlobReferenced(_:)``).
    /// - Returns: How many blobs it deleted.
    /// - Throws: ``StoreError/ioFailure(_:)``, or whatever `isReferenced` throws (the walk stops there).
    public func removeOrphans(olderThan cutoff: Date, isReferenced: (BlobID) async throws -> Bool) async throws -> Int {
        try await orphans(olderThan: cutoff, remove: true, isReferenced: isReferenced).count
    }

    /// The blobs older than `cutoff` that no record refers to (as ``removeOrphans(olderThan:isReferenced:)``
    /// finds them), with their sizes; deleted too with `remove`.
    public func orphans(
        olderThan cutoff: Date, remove: Bool, isReferenced: (BlobID) async throws -> Bool
    ) async throws -> [(blob: BlobID, size: Int64)] {
        let cutoffSeconds = cutoff.timeIntervalSince1970
        let blobsDirectory = self.blobsDirectory
        // At most 256 folders (`00` to `ff`), so listing them all at once is bounded too.
        let folders = try await threadPool.runIfActive {
            let stream = try DirectoryStream(path: blobsDirectory)
            var folders: [String] = []
            while true {
                let names = try stream.next(limit: Self.walkBatchSize)
                if names.isEmpty { return folders.sorted() }
                folders += names.filter(Self.isFolderName)
            }
        }
        var found: [(blob: BlobID, size: Int64)] = []
        for folder in folders {
            let folderPath = blobsDirectory + "/" + folder
            let stream = try await threadPool.runIfActive { try DirectoryStream(path: folderPath) }
            while true {
                let batch = try await threadPool.runIfActive { try stream.next(limit: Self.walkBatchSize) }
                if batch.isEmpty { break }
                let old = try await threadPool.runIfActive {
                    try batch.filter { name throws(StoreError) in
                        guard Self.isBlobName(name), name.hasPrefix(folder) else { return false }
                        guard let modified = try POSIX.modificationTime(folderPath + "/" + name) else { return false }
                        return modified < cutoffSeconds
                    }
                }
                var orphans: [String] = []
                for name in old where try await !isReferenced(BlobID(name)) {
                    orphans.append(name)
                }
                if orphans.isEmpty { continue }
                let sized = try await threadPool.runIfActive { [orphans] in
                    try orphans.map { name throws(StoreError) in
                        let size = try POSIX.fileSize(folderPath + "/" + name) ?? 0
                        if remove { try POSIX.removeFile(folderPath + "/" + name) }
                        return (BlobID(name), size)
                    }
                }
                found += sized
            }
        }
        return found
    }
}
