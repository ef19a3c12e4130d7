import Digest
import Foundation
import ObjectStore
#if canImport(Glibc)
import Glibc
#endif

/// Replaces the master key without rewriting any object: what the old key sealed (access keys' secrets, KMS keys'
/// material, SSE-S3 data-key envelopes at the head of blobs) is opened and sealed again under the new key.
///
/// Crash-safe by resuming: the key file holds the new key first and the old one after it until the end, and
/// everything opens under either, so a rotation cut short is finished by running it again.
public enum MasterKeyRotation {
    public struct Report: Sendable {
        public var accessKeys = 0
        public var kmsKeys = 0
        public var blobs = 0
    }

    public enum Failure: Error, CustomStringConvertible {
        case environmentKey
        case unopenable(String)

        public var description: String {
            switch self {
            case .environmentKey:
                "the master key comes from MARTLET_MASTER_KEY: put the new key first, comma-separated from the old (NEW,OLD), run rotate, then drop OLD"
            case .unopenable(let what): "\(what) does not open under any master key of the ring"
            }
        }
    }

    /// The ring a rotation works with: an unfinished one's as it is, else a new key ahead of the current one,
    /// written to the key file before anything is sealed under it.
    public static func begin(dataDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MasterKey {
        let ring = try MasterKey.load(dataDirectory: dataDirectory, environment: environment)
        if ring.isRotating { return ring }
        guard environment["MARTLET_MASTER_KEY"] == nil else { throw Failure.environmentKey }
        let next = MasterKey(bytes: KeyEnvelope.randomKey(), previous: [ring.bytes])
        try next.write(to: dataDirectory)
        return next
    }

    /// Seals again under the ring's current key everything an older key of the ring sealed.
    public static func reseal(
        ring: MasterKey, identities: any IdentityIndex, keys: any KMSKeyIndex, blobFiles: [String]
    ) async throws -> Report {
        var report = Report()
        let secrets = try resealed(
            try await identities.allAccessKeys().map { ($0.id, $0.sealedSecret) }, ring: ring, what: "the secret of access key")
        try await identities.resealAccessKeySecrets(secrets)
        report.accessKeys = secrets.count
        let materials = try resealed(
            try await keys.kmsKeys().map { ($0.id, $0.sealedMaterial) }, ring: ring, what: "the material of KMS key")
        try await keys.resealKMSKeys(materials)
        report.kmsKeys = materials.count
        let current = ring.fingerprint
        for path in blobFiles where try resealEnvelope(at: path, ring: ring, current: current) {
            report.blobs += 1
        }
        return report
    }

    /// Each item's secret opened under any key of the ring and sealed under its current one, by id (the seal is
    /// bound to the id).
    private static func resealed(_ items: [(id: String, sealed: [UInt8])], ring: MasterKey, what: String) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for item in items {
            guard let plain = ring.open(material: item.sealed, boundTo: item.id) else { throw Failure.unopenable("\(what) \(item.id)") }
            result[item.id] = ring.seal(material: plain, boundTo: item.id)
        }
        return result
    }

    /// Drops the old keys from the key file: the rotation is done.
    public static func finish(ring: MasterKey, dataDirectory: String) throws {
        try MasterKey(bytes: ring.bytes).write(to: dataDirectory)
    }

    /// Re-seals a blob's envelope in place if an older master key sealed it; whether it did. A blob that is not
    /// sealed, or sealed under a KMS or customer key, is left alone. The 96 bytes are rewritten with one `pwrite`
    /// and fsynced: the envelope is either the old one or the new one, and both open during the rotation.
    static func resealEnvelope(at path: String, ring: MasterKey, current: [UInt8]) throws -> Bool {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw Failure.unopenable("blob file \(path)") }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: KeyEnvelope.size)
        let got = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, KeyEnvelope.size, 0) }
        guard got == KeyEnvelope.size, let envelope = try? KeyEnvelope(parsing: head), envelope.wrapping == .master,
              envelope.reference != current, let oldKey = ring.key(fingerprint: envelope.reference)
        else { return false }
        // A plain blob can start like an envelope by chance; only one that opens under the old key is ours.
        guard let resealed = try? envelope.resealed(from: oldKey, to: ring.bytes, reference: current) else { return false }
        let bytes = resealed.bytes
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, KeyEnvelope.size, 0) }
        guard written == KeyEnvelope.size, fsync(fd) == 0 else { throw Failure.unopenable("blob file \(path) (write)") }
        return true
    }
}
