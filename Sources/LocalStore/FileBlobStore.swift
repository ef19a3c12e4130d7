#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix
import ObjectStore

/// Blobs as files, written through a temporary file and renamed into place once durable.
///
/// Layout under the data directory:
/// - `blobs/xy/xyz…`: one file per blob, named by its ID (32 lowercase hex digits of a random 128-bit number),
///   in a folder named by the ID's first two digits. Object keys never become paths.
/// - `tmp/<id>`: blobs being written. Whatever is here at start-up was interrupted; ``removeTemporaryFiles()``
///   clears it.
///
/// Writes, fsyncs, deletions and the reads of large blobs run on `threadPool`. Opening a blob for reading, and
/// reading a small one whole, run on the caller's thread (see ``openReader(_:)``).
public final class FileBlobStore: BlobStore {
    /// The data directory holding `blobs/` and `tmp/`.
    public let directory: String
    let blobsDirectory: String
    let temporaryDirectory: String
    let threadPool: NIOThreadPool
    let allocator: ByteBufferAllocator
    /// Tests' failing disk; nil in a server.
    let faults: (any DiskFaultInjector)?

    /// Opens the blob store in `directory`, creating `blobs/` and `tmp/` if missing.
    ///
    /// Makes blocking calls: meant for start-up. The store does not start or shut down `threadPool`; it must be
    /// running for as long as the store is used.
    /// - Parameters:
    ///   - directory: The data directory; it must exist.
    ///   - threadPool: Runs every blocking file call. NIO's shared blocking pool by default.
    ///   - allocator: Allocates the buffers readers return.
    ///   - faults: Makes chosen file calls fail, for tests of a failing disk.
    ///   - temporaryFolder: Where blobs are written before they are committed, under `directory`: `tmp`, or in a
    ///     folder several nodes share, one of their own (`tmp/nodes/<node>`), so a node clearing its interrupted
    ///     uploads at start-up never touches another's in flight. It must be on the same filesystem as `blobs/`.
    /// - Throws: ``StoreError/ioFailure(_:)`` if a folder cannot be created.
    public init(
        directory: String, threadPool: NIOThreadPool = .singleton, allocator: ByteBufferAllocator = ByteBufferAllocator(),
        faults: (any DiskFaultInjector)? = nil, temporaryFolder: String = "tmp"
    ) throws {
        self.faults = faults
        self.directory = directory
        self.blobsDirectory = directory + "/blobs"
        self.temporaryDirectory = directory + "/" + temporaryFolder
        self.threadPool = threadPool
        self.allocator = allocator
        try POSIX.makeDirectory(blobsDirectory)
        var folder = directory
        for component in temporaryFolder.split(separator: "/") {
            folder += "/" + component
            try POSIX.makeDirectory(folder)
        }
        try POSIX.syncDirectory(directory)
    }

    /// Starts a blob in `tmp/`; its file is created by the writer's first write or its commit.
    public func makeWriter() async throws -> any BlobWriter {
        let id = POSIX.randomHexID()
        return FileBlobWriter(store: self, id: id, temporaryPath: temporaryDirectory + "/" + id)
    }

    /// Opens a blob for reading. Throws ``StoreError/blobMissing(_:)`` if there is no such blob.
    ///
    /// Runs on the caller's thread: an open, a `fstat` and, for a small blob, one `pread` of bytes the page cache
    /// almost always holds cost less than two thread hand-offs to the pool and back (measured: a 4 KiB GET spent
    /// more CPU on the hand-offs than on the read). Larger blobs are read on the pool, chunk by chunk.
    public func openReader(_ id: BlobID) async throws -> any BlobReader {
        guard let path = path(of: id) else { throw StoreError.blobMissing(id) }
        guard let fd = try POSIX.openFileIfExists(path, O_RDONLY) else { throw StoreError.blobMissing(id) }
        do {
            let size = try POSIX.fileSize(fd, path: path)
            if size <= Self.wholeReadLimit {
                defer { POSIX.closeFile(fd) }
                return BufferedBlobReader(try FileBlobReader.read(
                    fd, offset: 0, length: Int(size), path: path, allocator: allocator, faults: faults))
            }
            #if os(Linux)
            // GETs mostly read a blob front to back: ask the kernel for a larger read-ahead window.
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
            #endif
            return FileBlobReader(fd: fd, size: size, path: path, allocator: allocator, threadPool: threadPool, faults: faults)
        } catch {
            POSIX.closeFile(fd)
            throw error
        }
    }

    /// Blobs up to this size are read into memory when opened (a request holds at most this much of them).
    static let wholeReadLimit: Int64 = 64 * 1024

    /// Deletes a blob; a missing blob is not an error. Open readers keep their bytes until they close.
    ///
    /// The folder is not fsynced: a deletion lost to a power cut leaves an orphan for ``removeOrphans(olderThan:isReferenced:)``.
    public func delete(_ id: BlobID) async throws {
        guard let path = path(of: id) else { return }
        // Runs even in a cancelled task: the index already forgot the blob, so a skipped delete would leak it.
        // A failure here (not ENOENT, which removeFile ignores) leaves an orphan for the next start-up sweep.
        await threadPool.runEvenIfCancelled { try? POSIX.removeFile(path) }
    }

    /// Where a blob's file lives, or nil if `id` is not one this store could have made (so a forged ID never
    /// becomes a path outside `blobs/`).
    func path(of id: BlobID) -> String? {
        guard Self.isBlobName(id.rawValue) else { return nil }
        let name = id.rawValue
        return "\(blobsDirectory)/\(name.prefix(2))/\(name)"
    }

    /// Whether a file name has the form of a blob ID: 32 lowercase hex digits.
    static func isBlobName(_ name: String) -> Bool {
        name.utf8.count == 32 && name.utf8.allSatisfy(isLowercaseHexDigit)
    }

    /// Whether a name in `blobs/` has the form of a fan-out folder: 2 lowercase hex digits.
    static func isFolderName(_ name: String) -> Bool {
        name.utf8.count == 2 && name.utf8.allSatisfy(isLowercaseHexDigit)
    }

    private static func isLowercaseHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// Moves a finished temporary file into `blobs/`, durably: the file is already fsynced; the rename is made
    /// durable by fsyncing the folder it lands in (and `blobs/` too when that folder is new).
    func publish(temporaryPath: String, id: String) throws(StoreError) {
        let folder = "\(blobsDirectory)/\(id.prefix(2))"
        let destination = "\(folder)/\(id)"
        if rename(temporaryPath, destination) != 0 {
            guard errno == ENOENT else { throw POSIX.failure("rename", "\(temporaryPath) -> \(destination)") }
            try POSIX.makeDirectory(folder)
            try POSIX.syncDirectory(blobsDirectory)
            try POSIX.renameFile(temporaryPath, destination)
        }
        try POSIX.syncDirectory(folder)
    }
}

extension NIOThreadPool {
    /// Runs `body` on the pool even if the calling task is cancelled, for clean-up that must happen (closing a
    /// file, removing a temporary file). If the pool has shut down, runs it on the caller's thread instead.
    func runEvenIfCancelled(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // A refused work item (state .cancelled) is called at once on this thread: it still does the work.
            submit { _ in
                body()
                continuation.resume()
            }
        }
    }
}
