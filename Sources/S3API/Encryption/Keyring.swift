import Digest
import Foundation
import ObjectStore
import S3Wire
import Synchronization

/// The server's keys for encryption at rest: the master key (SSE-S3, and the seal on every KMS key's material)
/// and the built-in key service's keys (SSE-KMS). Hands out data keys sealed in ``KeyEnvelope``s and opens them.
public final class Keyring: Sendable {
    let masterKey: MasterKey
    let keys: any KMSKeyIndex
    let region: String
    let accountID: String
    /// Opened KMS key material by key id: keys are immutable once made, so entries never go stale.
    private let materials = Mutex<[String: [UInt8]]>([:])

    /// The alias of the key SSE-KMS uses when a request names none (AWS's managed key for S3).
    public static let defaultKeyAlias = "aws/s3"

    public init(masterKey: MasterKey, keys: any KMSKeyIndex, region: String, accountID: String) {
        self.masterKey = masterKey
        self.keys = keys
        self.region = region
        self.accountID = accountID
    }

    /// The key's ARN, as AWS writes it (and as S3 reports it in `x-amz-server-side-encryption-aws-kms-key-id`).
    public func arn(of key: KMSKey) -> String {
        "arn:aws:kms:\(region):\(accountID):key/\(key.id)"
    }

    /// Makes a key with fresh random material.
    public func createKey(alias: String?, description: String) async throws -> KMSKey {
        let id = UUID().uuidString.lowercased()
        let material = KeyEnvelope.randomKey()
        let key = KMSKey(
            id: id, alias: alias, description: description, created: Date(), enabled: true,
            sealedMaterial: masterKey.seal(material: material, boundTo: id))
        try await keys.createKMSKey(key)
        return key
    }

    public func listKeys() async throws -> [KMSKey] {
        try await keys.kmsKeys()
    }

    /// The key a request names (key id, key ARN, `alias/NAME` or alias ARN), or the default key for nil (made on
    /// first use). Throws S3's `KMS.NotFoundException` or `KMS.DisabledException`.
    func resolve(_ name: String?) async throws -> KMSKey {
        guard let name else {
            if let key = try await keys.kmsKey(named: Self.defaultKeyAlias) { return key }
            do {
                return try await createKey(alias: Self.defaultKeyAlias, description: "Default key for SSE-KMS")
            } catch StoreError.keyAlreadyExists {
                // Another request made it first.
                if let key = try await keys.kmsKey(named: Self.defaultKeyAlias) { return key }
                throw S3Error(.kmsNotFound, "Invalid keyId \(Self.defaultKeyAlias)")
            }
        }
        var lookup = name
        let arnPrefix = "arn:aws:kms:"
        if lookup.hasPrefix(arnPrefix) {
            // arn:aws:kms:REGION:ACCOUNT:key/ID or ...:alias/NAME, of this server's region and account alone.
            let fields = lookup.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            guard fields.count == 6, fields[3] == region, fields[4] == accountID else {
                throw S3Error(.kmsNotFound, "Invalid keyId \(name)")
            }
            lookup = String(fields[5])
            if lookup.hasPrefix("key/") { lookup = String(lookup.dropFirst(4)) }
        }
        guard let key = try await keys.kmsKey(named: lookup) else { throw S3Error(.kmsNotFound, "Invalid keyId \(name)") }
        guard key.enabled else { throw S3Error(.kmsDisabled, "\(arn(of: key)) is disabled.") }
        return key
    }

    /// A key's material, opened under the master key.
    func material(of key: KMSKey) throws -> [UInt8] {
        if let known = materials.withLock({ $0[key.id] }) { return known }
        guard let material = masterKey.open(material: key.sealedMaterial, boundTo: key.id) else {
            throw StoreError.integrityFailure("KMS key \(key.id): its material does not open under the master key")
        }
        materials.withLock { $0[key.id] = material }
        return material
    }

    /// A new data key and its envelope, sealed under what `wrapping` names.
    func newDataKey(_ wrapping: Wrapping) throws -> (dataKey: [UInt8], envelope: KeyEnvelope) {
        let dataKey = KeyEnvelope.randomKey()
        let envelope: KeyEnvelope
        switch wrapping {
        case .master:
            envelope = try KeyEnvelope(sealing: dataKey, wrapping: .master, reference: masterKey.fingerprint, wrappingKey: masterKey.bytes)
        case .kms(let key):
            envelope = try KeyEnvelope(sealing: dataKey, wrapping: .kms, reference: Self.reference(of: key.id), wrappingKey: try material(of: key))
        case .customer(let key):
            envelope = try KeyEnvelope(sealing: dataKey, wrapping: .customer, reference: Self.customerReference, wrappingKey: key)
        }
        return (dataKey, envelope)
    }

    /// Opens an envelope. A customer envelope needs the request's customer key; the others the server's keys.
    /// Throws ``StoreError/integrityFailure(_:)`` when a server key does not open it, AccessDenied when a
    /// customer key does not.
    func dataKey(of envelope: KeyEnvelope, customerKey: [UInt8]?) async throws -> [UInt8] {
        switch envelope.wrapping {
        case .master:
            guard let key = masterKey.key(fingerprint: envelope.reference) else {
                throw StoreError.integrityFailure("a blob's data key is sealed under a master key this server does not have")
            }
            do { return try envelope.open(wrappingKey: key) } catch {
                throw StoreError.integrityFailure("a blob's key envelope does not open under the master key")
            }
        case .kms:
            // Keys never change once made: after the first read of a key the index is not asked again.
            guard let id = Self.keyID(reference: envelope.reference) else {
                throw StoreError.integrityFailure("a blob's key envelope names no KMS key")
            }
            let material: [UInt8]
            if let known = materials.withLock({ $0[id] }) {
                material = known
            } else {
                guard let key = try await keys.kmsKey(named: id) else {
                    throw StoreError.integrityFailure("a blob's data key is sealed under a KMS key this server does not have")
                }
                material = try self.material(of: key)
            }
            do { return try envelope.open(wrappingKey: material) } catch {
                throw StoreError.integrityFailure("a blob's key envelope does not open under its KMS key")
            }
        case .customer:
            guard let customerKey else {
                throw S3Error(.invalidRequest, "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
            }
            do { return try envelope.open(wrappingKey: customerKey) } catch {
                throw S3Error(.accessDenied, "The provided encryption key does not match the key the object was stored with.")
            }
        }
    }

    /// The id of the KMS key an envelope names: a key id is a UUID, whose 16 bytes are the reference.
    private static func keyID(reference: [UInt8]) -> String? {
        tuple(reference).map { UUID(uuid: $0).uuidString.lowercased() }
    }

    enum Wrapping {
        case master
        case kms(KMSKey)
        case customer([UInt8])
    }

    static let customerReference = [UInt8](repeating: 0, count: KeyEnvelope.referenceSize)

    static func reference(of keyID: String) -> [UInt8] {
        guard let uuid = UUID(uuidString: keyID) else { return Array(SHA256.hash(keyID.utf8).prefix(16)) }
        return withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }

    private static func tuple(_ bytes: [UInt8]) -> uuid_t? {
        guard bytes.count == 16 else { return nil }
        return (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15])
    }
}
