import CMartletSystem

/// AES-256-GCM over OpenSSL's EVP interface: seals small secrets (access keys' secrets) under a server key.
/// A sealed box is nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes).
public enum AESGCM {
    public static let keySize = 32
    static let nonceSize = 12
    static let tagSize = 16

    public enum Failure: Error, Equatable {
        /// The key is not 32 bytes.
        case badKey
        /// The box was altered, truncated, or sealed under another key or with other authenticated data.
        case authenticationFailed
    }

    /// Encrypts `plaintext` under `key` with a fresh random nonce; `aad` is authenticated, not encrypted.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], aad: [UInt8] = []) throws(Failure) -> [UInt8] {
        guard key.count == keySize else { throw .badKey }
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<nonceSize).map { _ in UInt8.random(in: 0...255, using: &generator) }
        guard let context = EVP_CIPHER_CTX_new() else { fatalError("EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(context) }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: tagSize)
        var length: Int32 = 0
        var total: Int32 = 0
        var ok = EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1
        ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceSize), nil) == 1
        ok = ok && EVP_EncryptInit_ex(context, nil, nil, key, nonce) == 1
        if ok, !aad.isEmpty { ok = EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 }
        if ok, !plaintext.isEmpty {
            ok = EVP_EncryptUpdate(context, &ciphertext, &length, plaintext, Int32(plaintext.count)) == 1
            total = length
        }
        ok = ok && ciphertext.withUnsafeMutableBufferPointer {
            EVP_EncryptFinal_ex(context, $0.baseAddress! + Int(total), &length) == 1
        }
        total += length
        ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagSize), &tag) == 1
        precondition(ok, "OpenSSL AES-GCM encryption failed")
        return nonce + ciphertext.prefix(Int(total)) + tag
    }

    /// Decrypts and authenticates a box from ``seal(_:key:aad:)``.
    public static func open(_ box: [UInt8], key: [UInt8], aad: [UInt8] = []) throws(Failure) -> [UInt8] {
        guard key.count == keySize else { throw .badKey }
        guard box.count >= nonceSize + tagSize else { throw .authenticationFailed }
        let nonce = Array(box.prefix(nonceSize))
        let ciphertext = Array(box.dropFirst(nonceSize).dropLast(tagSize))
        var tag = Array(box.suffix(tagSize))
        guard let context = EVP_CIPHER_CTX_new() else { fatalError("EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(context) }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        var total: Int32 = 0
        var ok = EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1
        ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceSize), nil) == 1
        ok = ok && EVP_DecryptInit_ex(context, nil, nil, key, nonce) == 1
        if ok, !aad.isEmpty { ok = EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 }
        if ok, !ciphertext.isEmpty {
            ok = EVP_DecryptUpdate(context, &plaintext, &length, ciphertext, Int32(ciphertext.count)) == 1
            total = length
        }
        ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagSize), &tag) == 1
        ok = ok && plaintext.withUnsafeMutableBufferPointer {
            EVP_DecryptFinal_ex(context, $0.baseAddress! + Int(total), &length) == 1
        }
        guard ok else { throw .authenticationFailed }
        total += length
        return Array(plaintext.prefix(Int(total)))
    }
}
