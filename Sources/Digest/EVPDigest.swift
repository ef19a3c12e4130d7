import CMartletSystem

/// Digests fetched once from the default OpenSSL provider. A fetched `EVP_MD` is immutable and
/// may be shared between threads; fetching it once avoids OpenSSL 3's implicit fetch on every init.
enum EVPAlgorithm {
    nonisolated(unsafe) static let md5: OpaquePointer = fetch("MD5", fallback: EVP_md5())
    nonisolated(unsafe) static let sha1: OpaquePointer = fetch("SHA1", fallback: EVP_sha1())
    nonisolated(unsafe) static let sha256: OpaquePointer = fetch("SHA256", fallback: EVP_sha256())

    private static func fetch(_ name: String, fallback: OpaquePointer?) -> OpaquePointer {
        if let fetched = EVP_MD_fetch(nil, name, nil) {
            return fetched
        }
        guard let fallback else {
            fatalError("OpenSSL has no \(name) digest")
        }
        return fallback
    }
}

/// Owns one `EVP_MD_CTX`. Mutated only through `EVPDigestState`, which copies it first unless
/// the state holds the only reference, so sharing it between copies (and tasks) is safe.
final class EVPContext: @unchecked Sendable {
    let context: OpaquePointer
    let algorithm: OpaquePointer

    init(algorithm: OpaquePointer) {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("EVP_MD_CTX_new failed: out of memory")
        }
        self.context = context
        self.algorithm = algorithm
        guard EVP_DigestInit_ex(context, algorithm, nil) == 1 else {
            fatalError("EVP_DigestInit_ex failed")
        }
    }

    init(copying other: EVPContext) {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("EVP_MD_CTX_new failed: out of memory")
        }
        self.context = context
        self.algorithm = other.algorithm
        guard EVP_MD_CTX_copy_ex(context, other.context) == 1 else {
            fatalError("EVP_MD_CTX_copy_ex failed")
        }
    }

    deinit {
        EVP_MD_CTX_free(context)
    }
}

/// Copy-on-write wrapper around an OpenSSL digest context.
struct EVPDigestState: Sendable {
    private var box: EVPContext

    init(algorithm: OpaquePointer) {
        box = EVPContext(algorithm: algorithm)
    }

    private mutating func uniqueContext() -> OpaquePointer {
        if !isKnownUniquelyReferenced(&box) {
            box = EVPContext(copying: box)
        }
        return box.context
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        let context = uniqueContext()
        guard EVP_DigestUpdate(context, base, bytes.count) == 1 else {
            fatalError("EVP_DigestUpdate failed")
        }
    }

    mutating func finalize() -> [UInt8] {
        let context = uniqueContext()
        let length = Int(EVP_MD_get_size(box.algorithm))
        let digest = [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            var written: UInt32 = 0
            guard EVP_DigestFinal_ex(context, buffer.baseAddress, &written) == 1 else {
                fatalError("EVP_DigestFinal_ex failed")
            }
            count = Int(written)
        }
        guard EVP_DigestInit_ex(context, box.algorithm, nil) == 1 else {
            fatalError("EVP_DigestInit_ex failed")
        }
        return digest
    }
}

/// MD5 (RFC 1321), for Content-MD5 and ETags. 16 bytes.
public struct MD5: StreamingDigest {
    private var state = EVPDigestState(algorithm: EVPAlgorithm.md5)
    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bytes) }
    public mutating func finalize() -> [UInt8] { state.finalize() }
}

/// SHA-1 (FIPS 180-4), for x-amz-checksum-sha1. 20 bytes.
public struct SHA1: StreamingDigest {
    private var state = EVPDigestState(algorithm: EVPAlgorithm.sha1)
    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bytes) }
    public mutating func finalize() -> [UInt8] { state.finalize() }
}

/// SHA-256 (FIPS 180-4), for SigV4 and x-amz-checksum-sha256. 32 bytes.
public struct SHA256: StreamingDigest {
    private var state = EVPDigestState(algorithm: EVPAlgorithm.sha256)
    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bytes) }
    public mutating func finalize() -> [UInt8] { state.finalize() }

    /// The SHA-256 of `bytes` in one call.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var digest = SHA256()
        digest.update(bytes)
        return digest.finalize()
    }
}
