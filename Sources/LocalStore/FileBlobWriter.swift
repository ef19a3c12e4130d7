#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import ObjectStore
import Synchronization

/// Writes one blob into `tmp/`, and on commit moves it into `blobs/`.
///
/// The file is created by the first step that needs it: a small blob, whose bytes arrive with its commit, is
/// created, written, fsynced and moved in one trip to the thread pool. Every step runs on the store's thread pool
/// while holding `state`'s lock, so steps never overlap even if a caller breaks the one-step-at-a-time rule, and a
/// descriptor is never closed under a write in flight.
final class FileBlobWriter: BlobWriter {
    private enum State {
        case unopened
        case open(fd: CInt, written: Int64)
        case committed
        case aborted
    }

    private let store: FileBlobStore
    private let id: String
    private let temporaryPath: String
    private let state = Mutex<State>(.unopened)

    init(store: FileBlobStore, id: String, temporaryPath: String) {
        self.store = store
        self.id = id
        self.temporaryPath = temporaryPath
    }

    /// Appends the readable bytes of `buffer`. Throws ``StoreError/ioFailure(_:)``, also after commit or abort.
    func write(_ buffer: ByteBuffer) async throws {
        if buffer.readableBytes == 0 { return }
        try await store.threadPool.runIfActive {
            try self.state.withLock { state throws(StoreError) in try self.append(buffer, &state) }
        }
    }

    func commit() async throws -> BlobID {
        try await commit(appending: ByteBuffer())
    }

    /// Appends `last`, fsyncs the file, renames it into `blobs/`, fsyncs that folder and returns the blob's ID.
    /// On failure the temporary file is removed and the writer is closed.
    func commit(appending last: ByteBuffer) async throws -> BlobID {
        try await store.threadPool.runIfActive { [store, id, temporaryPath] in
            try self.state.withLock { state throws(StoreError) in
                do throws(StoreError) {
                    try self.append(last, &state)
                    guard case .open(let fd, _) = state else {
                        throw StoreError.ioFailure("commit of a blob writer that is already closed (\(temporaryPath))")
                    }
                    if let code = store.faults?.fault(.sync, path: temporaryPath) {
                        throw POSIX.failure("fsync", temporaryPath, errno: code)
                    }
                    try POSIX.sync(fd, path: temporaryPath)
                    POSIX.closeFile(fd)
                    state = .aborted
                    try store.publish(temporaryPath: temporaryPath, id: id)
                    state = .committed
                } catch {
                    if case .open(let fd, _) = state {
                        POSIX.closeFile(fd)
                        try? POSIX.removeFile(temporaryPath)
                    } else if case .aborted = state {
                        // Closed on the way to `blobs/`: the temporary file may still be there.
                        try? POSIX.removeFile(temporaryPath)
                    }
                    state = .aborted
                    throw error
                }
            }
        }
        return BlobID(id)
    }

    /// Creates the file if this is the first step, then appends `buffer`. Blocking: runs on the pool, locked.
    private func append(_ buffer: ByteBuffer, _ state: inout State) throws(StoreError) {
        if case .unopened = state {
            if let code = store.faults?.fault(.create, path: temporaryPath) {
                throw POSIX.failure("open", temporaryPath, errno: code)
            }
            state = .open(fd: try POSIX.openFile(temporaryPath, O_WRONLY | O_CREAT | O_EXCL), written: 0)
        }
        guard case .open(let fd, let written) = state else {
            throw StoreError.ioFailure("write to a blob writer that is already closed (\(temporaryPath))")
        }
        if buffer.readableBytes == 0 { return }
        if let code = store.faults?.fault(.write, path: temporaryPath) {
            throw POSIX.failure("pwrite", temporaryPath, errno: code)
        }
        try buffer.withUnsafeReadableBytes { bytes throws(StoreError) in
            try POSIX.writeFully(fd, bytes, at: written, path: temporaryPath)
        }
        state = .open(fd: fd, written: written + Int64(buffer.readableBytes))
    }

    /// Closes and removes the temporary file. Runs even when the calling task is cancelled (a client that went
    /// away is the usual reason to abort). Does nothing after commit or a previous abort.
    func abort() async {
        await store.threadPool.runEvenIfCancelled { [temporaryPath] in
            self.state.withLock { state in
                switch state {
                case .unopened:
                    state = .aborted
                case .open(let fd, _):
                    POSIX.closeFile(fd)
                    state = .aborted
                    try? POSIX.removeFile(temporaryPath)
                case .committed, .aborted:
                    return
                }
            }
        }
    }

    deinit {
        // A writer dropped without commit or abort: don't leak the descriptor or the file. These calls are quick
        // and rare enough to make on whatever thread releases the writer.
        state.withLock { state in
            if case .open(let fd, _) = state {
                POSIX.closeFile(fd)
                try? POSIX.removeFile(temporaryPath)
            }
        }
    }
}
