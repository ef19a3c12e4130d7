import CMartletSystem

/// Keyed-hash message authentication (RFC 2104) over OpenSSL's one-shot `HMAC()`.
public enum HMAC {
    /// HMAC-SHA256 of `message` under `key` (32 bytes): the SigV4 primitive.
    public static func sha256(key: [UInt8], message: some Sequence<UInt8>) -> [UInt8] {
        compute(EVPAlgorithm.sha256, key: key, message: message)
    }

    /// HMAC-SHA1 of `message` under `key` (20 bytes): the SigV2 primitive.
    public static func sha1(key: [UInt8], message: some Sequence<UInt8>) -> [UInt8] {
        compute(EVPAlgorithm.sha1, key: key, message: message)
    }

    private static func compute(
        _ algorithm: OpaquePointer, key: [UInt8], message: some Sequence<UInt8>
    ) -> [UInt8] {
        if let result = message.withContiguousStorageIfAvailable({ oneShot(algorithm, key, UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(message).withUnsafeBytes { oneShot(algorithm, key, $0) }
    }

    private static func oneShot(
        _ algorithm: OpaquePointer, _ key: [UInt8], _ message: UnsafeRawBufferPointer
    ) -> [UInt8] {
        // Empty arrays may have no base address; OpenSSL is given a valid one regardless.
        var empty: UInt8 = 0
        return [UInt8](unsafeUninitializedCapacity: Int(EVP_MAX_MD_SIZE)) { out, count in
            var length: UInt32 = 0
            key.withUnsafeBytes { keyBytes in
                withUnsafeMutablePointer(to: &empty) { fallback in
                    let keyPointer = keyBytes.baseAddress ?? UnsafeRawPointer(fallback)
                    let data = message.baseAddress?.assumingMemoryBound(to: UInt8.self)
                        ?? UnsafePointer(fallback)
                    let result = CMartletSystem.HMAC(
                        algorithm, keyPointer, Int32(keyBytes.count), data, message.count,
                        out.baseAddress, &length)
                    precondition(result != nil, "OpenSSL HMAC() failed")
                }
            }
            count = Int(length)
        }
    }
}
