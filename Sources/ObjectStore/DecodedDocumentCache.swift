import Foundation
import Synchronization

/// Decoded JSON documents of the index by their text. An object's metadata document repeats across a bucket
/// (one content type, one owner and ACL), and decoding it is most of the CPU of reading a record: hashing the
/// text and copying the value costs a small part of that. Bounded: when full it starts over.
public final class DecodedDocumentCache<Value: Decodable & Sendable>: Sendable {
    private let documents = Mutex<[String: Value]>([:])
    private let capacity: Int
    /// Longer documents (many user metadata entries, large ACLs) are decoded every time rather than held.
    private let maxTextLength: Int

    public init(capacity: Int = 4096, maxTextLength: Int = 2048) {
        self.capacity = capacity
        self.maxTextLength = maxTextLength
    }

    public func decode(_ text: String) throws -> Value {
        guard text.utf8.count <= maxTextLength else { return try Self.decodeFresh(text) }
        if let known = documents.withLock({ $0[text] }) { return known }
        let value = try Self.decodeFresh(text)
        documents.withLock { documents in
            if documents.count >= capacity { documents.removeAll(keepingCapacity: true) }
            documents[text] = value
        }
        return value
    }

    private static func decodeFresh(_ text: String) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(text.utf8))
    }
}
