import NIOCore
import NIOPosix
import ObjectStore
import Synchronization

/// Reads one blob through a descriptor opened once, so its bytes stay readable even if the blob is deleted.
///
/// Reads hold `fd`'s lock for the duration of the `pread`, so `close()` never pulls the descriptor from under a
/// read in flight (and the number can't be reused by another file meanwhile).
final class FileBlobReader: BlobReader {
    let size: Int64
    private let fd: Mutex<CInt?>
    private let path: String
    private let allocator: ByteBufferAllocator
    private let threadPool: NIOThreadPool
    private let faults: (any DiskFaultInjector)?

    init(
        fd: CInt, size: Int64, path: String, allocator: ByteBufferAllocator, threadPool: NIOThreadPool,
        faults: (any DiskFaultInjector)? = nil
    ) {
        self.faults = faults
        self.fd = Mutex(fd)
        self.size = size
        self.path = path
        self.allocator = allocator
        self.threadPool = threadPool
    }

    /// Up to `maxLength` bytes from `offset`, read straight into a new buffer's storage; empty at or past the end.
    /// Throws ``StoreError/ioFailure(_:)``, also after ``close()``.
    func read(offset: Int64, maxLength: Int) async throws -> ByteBuffer {
        try await read(offset: offset, maxLength: maxLength, reusing: nil)
    }

    func read(offset: Int64, maxLength: Int, reusing spare: ByteBuffer?) async throws -> ByteBuffer {
        precondition(offset >= 0 && maxLength >= 0, "negative offset or length")
        let length = Int(min(Int64(maxLength), max(0, size - offset)))
        if length == 0 { return allocator.buffer(capacity: 0) }
        return try await threadPool.runIfActive { [allocator, path, faults] in
            try self.fd.withLock { fd throws(StoreError) in
                guard let fd else { throw StoreError.ioFailure("read from a closed blob reader (\(path))") }
                return try Self.read(fd, offset: offset, length: length, path: path, allocator: allocator, faults: faults, reusing: spare)
            }
        }
    }

    /// A `dup` of the descriptor, nil after ``close()``. Nil too when disk faults are injected: their reads must
    /// pass through ``read(offset:maxLength:)``, where the faults are.
    func duplicateDescriptor() -> CInt? {
        guard faults == nil else { return nil }
        return fd.withLock { fd in
            guard let fd else { return nil }
            let copy = dup(fd)
            return copy >= 0 ? copy : nil
        }
    }

    /// `length` bytes at `offset` of `fd` (fewer at the end of the file), read straight into a new buffer's storage.
    /// Blocking: runs on the I/O pool.
    static func read(
        _ fd: CInt, offset: Int64, length: Int, path: String, allocator: ByteBufferAllocator, faults: (any DiskFaultInjector)?,
        reusing spare: ByteBuffer? = nil
    ) throws(StoreError) -> ByteBuffer {
        if let code = faults?.fault(.read, path: path) { throw POSIX.failure("pread", path, errno: code) }
        var buffer: ByteBuffer
        if var spare {
            // Its storage is reused when nothing else holds it any more; otherwise clearing it allocates anew.
            spare.clear(minimumCapacity: length)
            buffer = spare
        } else {
            buffer = allocator.buffer(capacity: length)
        }
        guard length > 0 else { return buffer }
        _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { storage throws(StoreError) in
            // The buffer may have more capacity than asked for; read only what the caller wants.
            try POSIX.readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: storage.prefix(length)), at: offset, path: path)
        }
        return buffer
    }

    /// Closes the descriptor. Runs even when the calling task is cancelled; later calls do nothing.
    func close() async {
        await threadPool.runEvenIfCancelled { self.closeNow() }
    }

    private func closeNow() {
        fd.withLock { fd in
            if let open = fd { POSIX.closeFile(open) }
            fd = nil
        }
    }

    deinit {
        closeNow()
    }
}

/// A small blob already read whole (see ``FileBlobStore/wholeReadLimit``): reads are slices of its bytes. Like a
/// file reader, it refuses reads once closed.
final class BufferedBlobReader: BlobReader {
    let size: Int64
    private let bytes: Mutex<ByteBuffer?>

    init(_ bytes: ByteBuffer) {
        self.size = Int64(bytes.readableBytes)
        self.bytes = Mutex(bytes)
    }

    func read(offset: Int64, maxLength: Int) async throws -> ByteBuffer {
        precondition(offset >= 0 && maxLength >= 0, "negative offset or length")
        return try bytes.withLock { bytes throws(StoreError) in
            guard let bytes else { throw StoreError.ioFailure("read from a closed blob reader") }
            guard offset < size else { return ByteBuffer() }
            let length = min(maxLength, bytes.readableBytes - Int(offset))
            return bytes.getSlice(at: bytes.readerIndex + Int(offset), length: length) ?? ByteBuffer()
        }
    }

    func close() async {
        bytes.withLock { $0 = nil }
    }
}
