/// A hash or checksum computed incrementally over a byte stream.
///
/// Conforming types are values: copying one mid-stream gives two independent digests that
/// continue from the same state (the OpenSSL-backed ones copy their context lazily, on the
/// first `update` or `finalize` after the copy, so the common uncopied path never allocates).
/// A single value is not meant to be used from two tasks at once (it is mutated in place).
public protocol StreamingDigest: Sendable {
    /// Adds `bytes` to the digest. Runs per network chunk: allocation-free.
    mutating func update(_ bytes: UnsafeRawBufferPointer)
    /// Ends the digest; call once. Returns the digest bytes (checksums big-endian, as S3
    /// base64-encodes them). The value then starts over as if new.
    mutating func finalize() -> [UInt8]
}

extension StreamingDigest {
    /// Adds the bytes of any sequence (`[UInt8]`, `String.utf8`, `ArraySlice<UInt8>` ...).
    /// Contiguous sequences are hashed in place; others are copied to a temporary array first.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { update($0) }
        }
    }
}
