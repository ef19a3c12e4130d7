import Digest
import Foundation
import ObjectStore
import S3Auth
import S3Wire
import Synchronization

/// The server's keys for encryption at rest: the master key (SSE-S3, and the seal on every KMS key's material)
/// and the built-in key service's keys (SSE-KMS), each owned by an account. Hands out data keys sealed in
/// ``KeyEnvelope``s and opens them; who may use a KMS key is the ``Authorizer``'s to decide.
public final class Keyring: Sendable {
    let masterKey: MasterKey
    let keys: any KMSKeyIndex
    let region: String
    /// The operator's account, which owns the keys `martlet admin kms create-key` makes without `--account`.
    public let operatorAccountID: String
    /// Opened KMS key material by key id: keys are immutable once made, so entries never go stale.
    private let materials = Mutex<[String: [UInt8]]>([:])
    /// Keys by id (reads find an object's key by the id it records), and their policies parsed, by id and text.
    /// Nothing changes a key's owner, policy or state once it is made; whatever comes to change them must drop the
    /// key's entry here, or reads would keep deciding by the old policy.
    private let known = Mutex<KnownKeys>(KnownKeys())

    private struct KnownKeys {
        var byID: [String: KMSKey] = [:]
        var policies: [String: (text: String, document: PolicyDocument?)] = [:]
    }

    private static let knownLimit = 10_000

    /// The alias of the key SSE-KMS uses when a request names none: each account's AWS managed key for S3.
    public static let defaultKeyAlias = KMSKeyPolicy.managedS3Alias

    /// - Parameter accountID: the operator's account.
    public init(masterKey: MasterKey, keys: any KMSKeyIndex, region: String, accountID: String) {
        self.masterKey = masterKey
        self.keys = keys
        self.region = region
        self.operatorAccountID = accountID
    }

    /// The key's ARN, as AWS writes it (and as S3 reports it in `x-amz-server-side-encryption-aws-kms-key-id`).
    public func arn(of key: KMSKey) -> String {
        "arn:aws:kms:\(region):\(key.accountID):key/\(key.id)"
    }

    /// Makes a key of `accountID` with fresh random material, under `policy` (JSON text) or, without one, the policy
    /// AWS gives a new key. Throws ``MalformedPolicy`` for a policy that cannot be used, ``StoreError/keyAlreadyExists``
    /// when the account has a key with this alias.
    public func createKey(alias: String?, description: String, accountID: String, policy: String? = nil) async throws -> KMSKey {
        if let policy { _ = try Self.parsePolicy(policy) }
        let id = UUID().uuidString.lowercased()
        let material = KeyEnvelope.randomKey()
        let key = KMSKey(
            id: id, accountID: accountID, alias: alias, description: description, created: Date(), enabled: true,
            sealedMaterial: masterKey.seal(material: material, boundTo: id),
            policy: policy ?? KMSKeyPolicy.initialPolicy(alias: alias, accountID: accountID))
        try await keys.createKMSKey(key)
        return key
    }

    public func listKeys() async throws -> [KMSKey] {
        try await keys.kmsKeys()
    }

    /// A key policy's document, checked as AWS KMS checks one: a resource policy, every statement naming its
    /// principal, of at most 32 KiB.
    public static func parsePolicy(_ text: String) throws(MalformedPolicy) -> PolicyDocument {
        guard text.utf8.count <= KMSKeyPolicy.maxBytes else { throw MalformedPolicy("The key policy is larger than 32 KB.") }
        return try PolicyDocument.parse(Array(text.utf8), kind: .resource)
    }

    /// What a request's key name refers to: `x-amz-server-side-encryption-aws-kms-key-id` or a bucket's
    /// `KMSMasterKeyID`, which may be a key id, `alias/NAME`, a key ARN or an alias ARN.
    struct KeyName: Equatable {
        /// The account an ARN names; nil for an id or alias, which KMS looks up in the requester's account.
        var account: String?
        /// A key id, or an alias (`alias/NAME`).
        var lookup: String

        /// nil for an ARN that is not a KMS key or alias ARN of this region: no key has it.
        static func parse(_ text: String, region: String) -> KeyName? {
            guard text.hasPrefix("arn:") else { return KeyName(account: nil, lookup: text) }
            // arn:aws:kms:REGION:ACCOUNT:key/ID or arn:aws:kms:REGION:ACCOUNT:alias/NAME
            let fields = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            guard fields.count == 6, fields[1] == "aws", fields[2] == "kms", fields[3] == region,
                  fields[4].count == 12, fields[4].allSatisfy(\.isASCII), fields[4].allSatisfy(\.isNumber)
            else { return nil }
            let resource = fields[5]
            if resource.hasPrefix("key/"), resource.count > 4 {
                return KeyName(account: String(fields[4]), lookup: String(resource.dropFirst(4)))
            }
            if resource.hasPrefix("alias/"), resource.count > 6 {
                return KeyName(account: String(fields[4]), lookup: String(resource))
            }
            return nil
        }
    }

    /// The key a request of `account` names, or for nil that account's managed key `alias/aws/s3` (made on first
    /// use). An id or alias is looked up in `account`, as KMS does; an ARN in the account it names, whose key
    /// the caller may then use only if the key's policy lets it (the ``Authorizer`` decides).
    /// Throws S3's `KMS.NotFoundException` when the caller's own account has no such key, and AccessDenied when
    /// another account's ARN finds none: whether another account has a key is not told to who may not use it.
    func resolve(_ name: String?, account: String) async throws -> KMSKey {
        guard let name else { return try await managedKey(account: account) }
        guard let parsed = KeyName.parse(name, region: region) else { throw S3Error(.kmsNotFound, "Invalid keyId \(name)") }
        let owner = parsed.account ?? account
        if let key = try await keys.kmsKey(named: parsed.lookup, accountID: owner) {
            // An ARN names a key by id or alias only; a bare name that is another key's id is not that key.
            if parsed.account == nil || parsed.lookup.hasPrefix("alias/") || parsed.lookup == key.id { return key }
        }
        if owner != account { throw S3Error(.accessDenied) }
        throw S3Error(.kmsNotFound, "Invalid keyId \(name)")
    }

    /// The account's managed key for S3, made the first time the account needs it.
    private func managedKey(account: String) async throws -> KMSKey {
        if let key = try await keys.kmsKey(named: "alias/" + Self.defaultKeyAlias, accountID: account) { return key }
        do {
            return try await createKey(alias: Self.defaultKeyAlias, description: "Default key that protects my S3 objects when no other key is defined", accountID: account)
        } catch StoreError.keyAlreadyExists {
            // Another request made it first.
            if let key = try await keys.kmsKey(named: "alias/" + Self.defaultKeyAlias, accountID: account) { return key }
            throw S3Error(.kmsNotFound, "Invalid keyId alias/\(Self.defaultKeyAlias)")
        }
    }

    /// The key an object's encryption records (its ARN), known from memory after its first use. Throws
    /// ``StoreError/integrityFailure(_:)`` when the server has no such key.
    func recordedKey(_ recorded: String?) async throws -> KMSKey {
        guard let recorded, let name = KeyName.parse(recorded, region: region) ?? Self.bareARN(recorded) else {
            throw StoreError.integrityFailure("an SSE-KMS object records no key of this server: \(recorded ?? "none")")
        }
        var key = known.withLock { $0.byID[name.lookup] }
        if key == nil {
            key = try await keys.kmsKey(id: name.lookup)
            if let key { remember(key) }
        }
        guard let key, name.account == nil || name.account == key.accountID else {
            throw StoreError.integrityFailure("an SSE-KMS object's key \(recorded) is not on this server")
        }
        return key
    }

    /// An ARN recorded in another region (the server's region changed since): its key id still names the key.
    private static func bareARN(_ recorded: String) -> KeyName? {
        guard recorded.hasPrefix("arn:"), let slash = recorded.range(of: ":key/") else { return nil }
        return KeyName(account: nil, lookup: String(recorded[slash.upperBound...]))
    }

    /// Forgets every key record and parsed policy (another node changed a key); opened material stays, as a key's
    /// material never changes.
    public func forgetKeys() {
        known.withLock { known in
            known.byID.removeAll(keepingCapacity: true)
            known.policies.removeAll(keepingCapacity: true)
        }
    }

    private func remember(_ key: KMSKey) {
        known.withLock { known in
            if known.byID.count >= Self.knownLimit { known.byID.removeAll(keepingCapacity: true) }
            known.byID[key.id] = key
        }
    }

    /// The key's policy, parsed once per text; nil for a stored policy that no longer parses (it then allows
    /// nothing).
    func policy(of key: KMSKey) -> PolicyDocument? {
        if let cached = known.withLock({ $0.policies[key.id] }), cached.text == key.policy { return cached.document }
        let document = try? Self.parsePolicy(key.policy)
        known.withLock { known in
            if known.policies.count >= Self.knownLimit { known.policies.removeAll(keepingCapacity: true) }
            known.policies[key.id] = (key.policy, document)
        }
        return document
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
                guard let key = try await keys.kmsKey(id: id) else {
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
