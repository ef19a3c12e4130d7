import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data folder (`DIR/server.lock`, flock), held by a server for as long as it runs and
/// released by the kernel however it ends: a second server on the same folder, or an offline change that must not
/// race a running one (a master key rotation), is refused instead.
struct DataFolderLock {
    private let descriptor: CInt

    /// Takes the lock, or throws ``AdminFailure`` naming who would hold it.
    /// - Parameter file: The lock file under the folder: `server.lock` for the one server of a folder, or a node's own
    ///   (`nodes/<node>.lock`) where several nodes share it.
    init(dataDirectory: String, file: String = "server.lock", purpose: String) throws {
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent(file).path
        try? FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AdminFailure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw AdminFailure(description: "a martlet server is using \(dataDirectory); \(purpose)")
        }
        descriptor = fd
    }

    /// Lets the lock go before the process ends (an offline command that is done).
    func release() {
        close(descriptor)
    }
}
