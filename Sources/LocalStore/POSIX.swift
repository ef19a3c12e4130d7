#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore

/// Thin wrappers over the POSIX calls the blob store makes. Each retries on EINTR and reports failure as
/// ``StoreError/ioFailure(_:)`` naming the call and the path. They block: calls that may wait on the disk (writes,
/// fsyncs, large reads) run on the store's thread pool.
enum POSIX {
    /// The errno of the last failed call, as a thrown error.
    static func failure(_ call: String, _ path: String, errno code: CInt = errno) -> StoreError {
        let message = "\(call)(\(path)): \(String(cString: strerror(code))) (errno \(code))"
        return code == ENOSPC || code == EDQUOT ? .insufficientStorage(message) : .ioFailure(message)
    }

    /// `open(2)` with `O_CLOEXEC`, so no descriptor leaks into a child process.
    static func openFile(_ path: String, _ flags: CInt, mode: mode_t = 0o644) throws(StoreError) -> CInt {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw failure("open", path) }
        }
    }

    /// Like ``openFile(_:_:mode:)``, but nil when the file does not exist.
    static func openFileIfExists(_ path: String, _ flags: CInt) throws(StoreError) -> CInt? {
        while true {
            let fd = open(path, flags | O_CLOEXEC)
            if fd >= 0 { return fd }
            switch errno {
            case EINTR: continue
            case ENOENT: return nil
            default: throw failure("open", path)
            }
        }
    }

    /// Writes all of `bytes` at `offset`, looping over short writes.
    static func writeFully(_ fd: CInt, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(StoreError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                // pwrite returning 0 for a non-empty request means the disk will take no more (it should set
                // ENOSPC, but a zero would otherwise spin forever).
                throw failure("pwrite", path, errno: n == 0 ? ENOSPC : errno)
            }
        }
    }

    /// Reads into `buffer` from `offset` until it is full or the file ends; returns the bytes read.
    static func readFully(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String)
        throws(StoreError) -> Int
    {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n > 0 {
                done += n
            } else if n == 0 {
                break
            } else if errno != EINTR {
                throw failure("pread", path)
            }
        }
        return done
    }

    static func sync(_ fd: CInt, path: String) throws(StoreError) {
        while fsync(fd) != 0 {
            if errno != EINTR { throw failure("fsync", path) }
        }
    }

    /// Makes the entries of a directory (a rename or a new file into it) durable.
    static func syncDirectory(_ path: String) throws(StoreError) {
        let fd = try openFile(path, O_RDONLY | O_DIRECTORY)
        defer { closeFile(fd) }
        try sync(fd, path: path)
    }

    /// Closes a descriptor. Errors are ignored: after `close(2)` fails the descriptor is gone anyway on Linux,
    /// and every durability promise was already settled by an earlier `fsync`.
    static func closeFile(_ fd: CInt) {
        _ = close(fd)
    }

    static func renameFile(_ from: String, _ to: String) throws(StoreError) {
        if rename(from, to) != 0 { throw failure("rename", "\(from) -> \(to)") }
    }

    /// Removes a file; a file that is already gone is not an error.
    static func removeFile(_ path: String) throws(StoreError) {
        if unlink(path) != 0 && errno != ENOENT { throw failure("unlink", path) }
    }

    /// Creates a directory; one that already exists is not an error.
    static func makeDirectory(_ path: String) throws(StoreError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw failure("mkdir", path) }
    }

    /// The size of an open file.
    static func fileSize(_ fd: CInt, path: String) throws(StoreError) -> Int64 {
        var info = stat()
        if fstat(fd, &info) != 0 { throw failure("fstat", path) }
        return Int64(info.st_size)
    }

    /// The size of the file at `path`, or nil if it is gone.
    static func fileSize(_ path: String) throws(StoreError) -> Int64? {
        var info = stat()
        if stat(path, &info) != 0 {
            if errno == ENOENT { return nil }
            throw failure("stat", path)
        }
        return Int64(info.st_size)
    }

    /// The modification time of a file in seconds since 1970, or nil if the file is gone.
    static func modificationTime(_ path: String) throws(StoreError) -> Double? {
        var info = stat()
        if stat(path, &info) != 0 {
            if errno == ENOENT { return nil }
            throw failure("stat", path)
        }
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// 32 lowercase hex digits of a fresh random 128-bit number.
    static func randomHexID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return hex16(high) + hex16(low)
    }

    private static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
