/// A blob file operation that a ``DiskFaultInjector`` may fail.
public enum DiskOperation: Sendable, Equatable {
    /// Creating a blob's temporary file.
    case create
    /// Writing a blob's bytes.
    case write
    /// Making a written blob durable.
    case sync
    /// Reading a blob's bytes.
    case read
}

/// The seam through which tests make the disk fail: consulted before each blob file call, it returns the errno
/// that call fails with (`ENOSPC`, `EIO`...) or nil to let it through. Servers run without one.
public protocol DiskFaultInjector: Sendable {
    func fault(_ operation: DiskOperation, path: String) -> CInt?
}
