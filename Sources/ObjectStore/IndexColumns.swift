import Foundation

/// How records become the column values of an index, shared by every index implementation so that a row written by
/// one reads the same in another (`admin migrate-index` copies values, not records).
///
/// Times are milliseconds since 1970; metadata, checksums and settings are JSON with sorted keys; segment and part
/// lists use ``CompactLists``.
public enum IndexColumns {
    /// Every date that reaches an index is bounded where it is parsed; the clamp keeps one that slipped through
    /// (or a NaN) from trapping the conversion, which would end the whole server.
    public static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite else { return 0 }
        return Int64(min(max(value, -millisecondBound), millisecondBound))
    }

    /// Year 10000, in milliseconds from 1970: far past any date S3 accepts, far inside Int64.
    private static let millisecondBound: Double = 253_402_300_800_000

    public static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    public static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, json text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    private static let metadataDocuments = DecodedDocumentCache<ObjectMetadata>()

    /// An object's metadata column, through a cache: the document repeats across a bucket.
    public static func decodeMetadata(_ text: String) throws -> ObjectMetadata {
        try metadataDocuments.decode(text)
    }

    /// A stored checksum. The index holds it as JSONEncoder wrote it (sorted keys, `/` escaped), read here without
    /// a JSONDecoder, which cost more than the rest of a GET's record; any other shape goes to JSONDecoder.
    public static func decodeChecksum(_ text: String) throws -> StoredChecksum {
        if let fields = canonicalJSONStrings(text, keys: ["algorithm", "type", "value"]) {
            return StoredChecksum(algorithm: fields[0], value: fields[2], type: fields[1])
        }
        return try JSONDecoder().decode(StoredChecksum.self, from: Data(text.utf8))
    }

    /// The values of `{"k1":"v1","k2":"v2",...}` with exactly `keys` in that order, whose values have no escapes but
    /// `\/`; nil for anything else.
    public static func canonicalJSONStrings(_ text: String, keys: [String]) -> [String]? {
        var bytes = Substring(text).utf8[...]
        func expect(_ literal: String) -> Bool {
            guard bytes.starts(with: literal.utf8) else { return false }
            bytes = bytes.dropFirst(literal.utf8.count)
            return true
        }
        var values: [String] = []
        for (index, key) in keys.enumerated() {
            guard expect(index == 0 ? "{\"" : ",\""), expect(key), expect("\":\"") else { return nil }
            var value: [UInt8] = []
            while let byte = bytes.first, byte != UInt8(ascii: "\"") {
                bytes = bytes.dropFirst()
                if byte == UInt8(ascii: "\\") {
                    guard bytes.first == UInt8(ascii: "/") else { return nil }
                    bytes = bytes.dropFirst()
                    value.append(UInt8(ascii: "/"))
                } else {
                    guard byte >= 0x20 && byte < 0x80 else { return nil }
                    value.append(byte)
                }
            }
            guard expect("\"") else { return nil }
            values.append(String(decoding: value, as: UTF8.self))
        }
        return expect("}") && bytes.isEmpty ? values : nil
    }
}
