#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
import Synchronization

/// The names in one folder, read a batch at a time so a folder of millions of files costs bounded memory.
///
/// Each call blocks: run it on a thread pool. Calls may come from different threads, one at a time or not:
/// the `DIR*` is only touched under the lock.
final class DirectoryStream: Sendable {
    #if canImport(Glibc)
    private typealias Handle = OpaquePointer
    #else
    private typealias Handle = UnsafeMutablePointer<DIR>
    #endif

    let path: String
    private let handle: Mutex<Handle?>

    /// Opens `path` for listing. Throws ``StoreError/ioFailure(_:)``.
    init(path: String) throws(StoreError) {
        guard let dir = opendir(path) else { throw POSIX.failure("opendir", path) }
        self.path = path
        self.handle = Mutex(dir)
    }

    /// Up to `limit` more names, without `.` and `..`; empty once the folder is exhausted.
    func next(limit: Int) throws(StoreError) -> [String] {
        try handle.withLock { handle throws(StoreError) -> [String] in
            guard let dir = handle else { return [] }
            var names: [String] = []
            while names.count < limit {
                errno = 0
                guard let entry = readdir(dir) else {
                    if errno != 0 { throw POSIX.failure("readdir", path) }
                    break
                }
                let name = Self.name(of: entry)
                if name != "." && name != ".." { names.append(name) }
            }
            return names
        }
    }

    /// The entry's name, read in place. glibc allocates a record only as long as its name, so copying the
    /// whole `dirent` (as `entry.pointee.d_name` would) can read past the end of the mapped buffer.
    private static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        // `&entry.pointee.d_name` goes through the pointer's addressor: the field's own address, nothing copied.
        withUnsafePointer(to: &entry.pointee.d_name) { field in
            String(cString: UnsafeRawPointer(field).assumingMemoryBound(to: CChar.self))
        }
    }

    deinit {
        handle.withLock { handle in
            if let dir = handle { closedir(dir) }
            handle = nil
        }
    }
}
