import Digest
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The server's key-encryption key: seals access keys' secrets in the index. From `MARTLET_MASTER_KEY` (64 hex
/// digits or base64 of 32 bytes) or the data folder's `master.key`, created with mode 0600 on first start.
public struct MasterKey: Sendable {
    let bytes: [UInt8]

    public enum Failure: Error, CustomStringConvertible {
        case malformed(String)
        case unreadable(String)

        public var description: String {
            switch self {
            case .malformed(let source): "\(source) must hold 32 bytes, as 64 hex digits or base64"
            case .unreadable(let detail): "cannot read or create the master key: \(detail)"
            }
        }
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == AESGCM.keySize)
        self.bytes = bytes
    }

    /// The key from the environment, else the data folder's key file (made if missing).
    public static func load(dataDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MasterKey {
        if let text = environment["MARTLET_MASTER_KEY"] {
            guard let bytes = decode(text) else { throw Failure.malformed("MARTLET_MASTER_KEY") }
            return MasterKey(bytes: bytes)
        }
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("master.key").path
        if let data = FileManager.default.contents(atPath: path) {
            guard let bytes = decode(String(decoding: data, as: UTF8.self)) else { throw Failure.malformed(path) }
            return MasterKey(bytes: bytes)
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<AESGCM.keySize).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let text = Data(bytes).base64EncodedString() + "\n"
        // Written aside and renamed, so a crash never leaves a half-written key; 0600 from the start.
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Failure.unreadable(path)
        }
        let fd = Glibc.open(temporary, O_RDONLY)
        if fd >= 0 { _ = fsync(fd); close(fd) }
        guard rename(temporary, path) == 0 else { throw Failure.unreadable(path) }
        return MasterKey(bytes: bytes)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.utf8.count == 64, let bytes = hexBytes(trimmed) { return bytes }
        if let data = Data(base64Encoded: trimmed), data.count == AESGCM.keySize { return [UInt8](data) }
        return nil
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = hexValue(high), let l = hexValue(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        return bytes
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 65...70: c - 55
        case 97...102: c - 87
        default: nil
        }
    }

    /// Seals a secret, bound to the access key id it belongs to (a sealed secret moved to another key's row
    /// does not open).
    func seal(secret: String, accessKeyID: String) -> [UInt8] {
        // Cannot fail: the key is 32 bytes by construction.
        (try? AESGCM.seal(Array(secret.utf8), key: bytes, aad: Array(accessKeyID.utf8))) ?? []
    }

    /// Names this key in the envelopes it seals (``KeyEnvelope/reference``) without revealing it.
    var fingerprint: [UInt8] {
        Array(SHA256.hash(Array("martlet master key fingerprint".utf8) + bytes).prefix(KeyEnvelope.referenceSize))
    }

    /// Seals key material (a KMS key's), bound to what it belongs to.
    func seal(material: [UInt8], boundTo owner: String) -> [UInt8] {
        (try? AESGCM.seal(material, key: bytes, aad: Array(owner.utf8))) ?? []
    }

    func open(material sealed: [UInt8], boundTo owner: String) -> [UInt8]? {
        try? AESGCM.open(sealed, key: bytes, aad: Array(owner.utf8))
    }

    func open(_ sealed: [UInt8], accessKeyID: String) -> String? {
        guard let plain = try? AESGCM.open(sealed, key: bytes, aad: Array(accessKeyID.utf8)) else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }
}
