/// A data key sealed under a key-encryption key, stored at the start of an encrypted blob: whoever holds the
/// key-encryption key it names can open it, and rotating that key re-seals these 96 bytes, never the blob.
///
/// Layout: `MKE\u{1}` (magic and version), the wrapping kind (1 byte), a 16-byte reference to the wrapping key
/// (a master key's fingerprint, a KMS key's id; zeros for a customer key), then an ``AESGCM`` box of the
/// 32-byte data key (60 bytes) whose authenticated data is everything before it, then zero padding.
public struct KeyEnvelope: Equatable, Sendable {
    public static let size = 96
    public static let referenceSize = 16
    static let magic: [UInt8] = [0x4D, 0x4B, 0x45, 0x01]
    static let boxSize = 12 + AESGCM.keySize + 16

    /// What the data key is wrapped with.
    public enum Wrapping: UInt8, Sendable {
        /// The server's master key (SSE-S3).
        case master = 1
        /// A key of the built-in key service (SSE-KMS).
        case kms = 2
        /// The key the client sends with each request (SSE-C).
        case customer = 3
    }

    public enum Failure: Error, Equatable {
        case unknownFormat
        /// The wrapping key is not the one the data key was sealed under, or the envelope was altered.
        case wrongKey
    }

    public let wrapping: Wrapping
    public let reference: [UInt8]
    let box: [UInt8]

    /// Seals `dataKey` under `wrappingKey`.
    public init(sealing dataKey: [UInt8], wrapping: Wrapping, reference: [UInt8], wrappingKey: [UInt8]) throws(AESGCM.Failure) {
        precondition(reference.count == Self.referenceSize && dataKey.count == AESGCM.keySize)
        self.wrapping = wrapping
        self.reference = reference
        self.box = try AESGCM.seal(dataKey, key: wrappingKey, aad: Self.authenticated(wrapping, reference))
    }

    public init(parsing bytes: some Collection<UInt8>) throws(Failure) {
        let bytes = Array(bytes.prefix(Self.size))
        guard bytes.count == Self.size, Array(bytes[0..<4]) == Self.magic, let wrapping = Wrapping(rawValue: bytes[4]) else {
            throw .unknownFormat
        }
        self.wrapping = wrapping
        self.reference = Array(bytes[5..<(5 + Self.referenceSize)])
        let boxStart = 5 + Self.referenceSize
        self.box = Array(bytes[boxStart..<(boxStart + Self.boxSize)])
    }

    public var bytes: [UInt8] {
        let used = Self.authenticated(wrapping, reference) + box
        return used + [UInt8](repeating: 0, count: Self.size - used.count)
    }

    /// The data key, if `wrappingKey` is the key it was sealed under.
    public func open(wrappingKey: [UInt8]) throws(Failure) -> [UInt8] {
        do {
            return try AESGCM.open(box, key: wrappingKey, aad: Self.authenticated(wrapping, reference))
        } catch {
            throw .wrongKey
        }
    }

    /// The same data key sealed under another key (a rotation).
    public func resealed(from oldKey: [UInt8], to newKey: [UInt8], reference: [UInt8]) throws(Failure) -> KeyEnvelope {
        let dataKey = try open(wrappingKey: oldKey)
        do {
            return try KeyEnvelope(sealing: dataKey, wrapping: wrapping, reference: reference, wrappingKey: newKey)
        } catch {
            throw .wrongKey
        }
    }

    static func authenticated(_ wrapping: Wrapping, _ reference: [UInt8]) -> [UInt8] {
        magic + [wrapping.rawValue] + reference
    }

    /// 32 random bytes: a new data key.
    public static func randomKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<AESGCM.keySize).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
