import Synchronization

/// Derived SigV4 signing keys by (secret, date, region, service). Bounded: when full it starts over, which costs
/// one derivation per key in use.
final class SigningKeyCache: Sendable {
    private struct Scope: Hashable {
        let secretKey: String
        let date: String
        let region: String
        let service: String
    }

    private let keys = Mutex<[Scope: [UInt8]]>([:])
    private let capacity: Int

    init(capacity: Int = 1024) { self.capacity = capacity }

    func key(secretKey: String, date: String, region: String, service: String) -> [UInt8] {
        let scope = Scope(secretKey: secretKey, date: date, region: region, service: service)
        if let known = keys.withLock({ $0[scope] }) { return known }
        let derived = SigV4.deriveSigningKey(secretKey: secretKey, date: date, region: region, service: service)
        keys.withLock { keys in
            if keys.count >= capacity { keys.removeAll(keepingCapacity: true) }
            keys[scope] = derived
        }
        return derived
    }
}
