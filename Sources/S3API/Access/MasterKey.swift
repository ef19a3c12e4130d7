import Digest
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The server's key-encryption key: seals access keys' secrets and KMS keys' material in the index, and the data
/// keys of SSE-S3 objects. From `MARTLET_MASTER_KEY` (64 hex digits or base64 of 32 bytes) or the data folder's
/// `master.key`, created with mode 0600 on first start.
///
/// During a rotation (`martlet admin kms rotate`) the key file holds the new key first and the old one after it
/// (as `MARTLET_MASTER_KEY` may, comma-separated): everything opens under either, and new things are sealed under
/// the first.
public struct MasterKey: Sendable {
    let bytes: [UInt8]
    /// Keys still accepted for opening, from before a rotation that has not finished.
    let previous: [[UInt8]]
    /// Each key's fingerprint, current first: computed once, as every SSE-S3 write and read names one.
    private let fingerprints: [[UInt8]]

    public enum Failure: Error, CustomStringConvertible {
        case malformed(String)
        case unreadable(String)

        public var description: String {
            switch self {
            case .malformed(let source): "\(source) must hold 32-byte keys, each as 64 hex digits or base64"
            case .unreadable(let detail): "cannot read or create the master key: \(detail)"
            }
        }
    }

    public init(bytes: [UInt8], previous: [[UInt8]] = []) {
        precondition(bytes.count == AESGCM.keySize && previous.allSatisfy { $0.count == AESGCM.keySize })
        self.bytes = bytes
        self.previous = previous
        self.fingerprints = ([bytes] + previous).map(Self.fingerprint(of:))
    }

    /// Whether a rotation is unfinished: keys other than the current one are still accepted.
    public var isRotating: Bool { !previous.isEmpty }

    /// The key from the environment, else the data folder's key file (made if missing).
    public static func load(dataDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MasterKey {
        if let text = environment["MARTLET_MASTER_KEY"] {
            return try parse(text.split(separator: ","), source: "MARTLET_MASTER_KEY")
        }
        let path = keyFile(dataDirectory)
        if let data = FileManager.default.contents(atPath: path) {
            return try parse(String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline), source: path)
        }
        try? FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let key = MasterKey(bytes: KeyEnvelope.randomKey())
        // Never over an existing file: nodes sharing a folder may start together, and all must end up with one key.
        if try key.write(to: dataDirectory, replacing: false) { return key }
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure.unreadable(path) }
        return try parse(String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline), source: path)
    }

    static func keyFile(_ dataDirectory: String) -> String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("master.key").path
    }

    private static func parse(_ lines: [Substring], source: String) throws -> MasterKey {
        let keys = try lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { line in
            guard let bytes = decode(line) else { throw Failure.malformed(source) }
            return bytes
        }
        guard let first = keys.first else { throw Failure.malformed(source) }
        return MasterKey(bytes: first, previous: Array(keys.dropFirst()))
    }

    /// Writes the key file (current key first), aside and renamed, so a crash never leaves a half-written key;
    /// 0600 from the start.
    /// Writes the key file durably; without `replacing`, only if there is none yet (returns false if there was).
    @discardableResult
    func write(to dataDirectory: String, replacing: Bool = true) throws -> Bool {
        let path = Self.keyFile(dataDirectory)
        let text = ([bytes] + previous).map { Data($0).base64EncodedString() + "\n" }.joined()
        // A name of its own when another process may be writing the same file at once.
        let temporary = replacing ? path + ".tmp" : path + ".tmp-\(UUID().uuidString)"
        try? FileManager.default.removeItem(atPath: temporary)
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Failure.unreadable(path)
        }
        let fd = Glibc.open(temporary, O_RDONLY)
        if fd >= 0 { _ = fsync(fd); close(fd) }
        if replacing {
            guard rename(temporary, path) == 0 else { throw Failure.unreadable(path) }
        } else {
            // link(2) fails if the name exists, where rename would replace it.
            let linked = link(temporary, path) == 0
            let failure = errno
            unlink(temporary)
            if !linked {
                if failure == EEXIST { return false }
                throw Failure.unreadable(path)
            }
        }
        let folder = Glibc.open(dataDirectory, O_RDONLY | O_DIRECTORY)
        if folder >= 0 { _ = fsync(folder); close(folder) }
        return true
    }

    /// Every key this ring opens with, current first.
    var all: [[UInt8]] { [bytes] + previous }

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

    /// Names the current key in the envelopes it seals (``KeyEnvelope/reference``) without revealing it.
    var fingerprint: [UInt8] { fingerprints[0] }

    /// The current key's fingerprint as hex: what several nodes compare to be sure they share the key.
    public var fingerprintText: String { fingerprint.map { String(format: "%02x", $0) }.joined() }

    /// Whether one of this ring's keys has the fingerprint ``fingerprintText`` printed.
    public func recognizes(fingerprintText text: String) -> Bool {
        fingerprints.contains { $0.map { String(format: "%02x", $0) }.joined() == text }
    }

    static func fingerprint(of key: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(Array("martlet master key fingerprint".utf8) + key).prefix(KeyEnvelope.referenceSize))
    }

    /// The key of the ring with this fingerprint.
    func key(fingerprint: [UInt8]) -> [UInt8]? {
        fingerprints.firstIndex(of: fingerprint).map { all[$0] }
    }

    /// Seals key material (a KMS key's), bound to what it belongs to.
    func seal(material: [UInt8], boundTo owner: String) -> [UInt8] {
        (try? AESGCM.seal(material, key: bytes, aad: Array(owner.utf8))) ?? []
    }

    func open(material sealed: [UInt8], boundTo owner: String) -> [UInt8]? {
        for key in all {
            if let plain = try? AESGCM.open(sealed, key: key, aad: Array(owner.utf8)) { return plain }
        }
        return nil
    }

    func open(_ sealed: [UInt8], accessKeyID: String) -> String? {
        guard let plain = open(material: sealed, boundTo: accessKeyID) else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }
}
