import Foundation

/// The compact text forms of an object's segment and part lists. A 10,000-part object has 10,000 of each, and
/// JSON decoding made every HEAD and GET of it pay milliseconds; these decode with one pass over the bytes.
///
/// - Segments: `blob:offset:size` joined by `;` (offset 0 is written `blob::size`).
/// - Parts: `number:size:checksum` joined by `;`, checksum (base64, never `:` or `;`) empty when absent.
///
/// Rows written before this format hold JSON arrays (`[...]`), still read.
public enum CompactLists {
    public static func encode(_ segments: [BlobSegment]) -> String {
        var text = ""
        text.reserveCapacity(segments.count * 48)
        for (index, segment) in segments.enumerated() {
            if index > 0 { text += ";" }
            text += segment.blobID.rawValue
            text += ":"
            if segment.offset != 0 { text += String(segment.offset) }
            text += ":"
            text += String(segment.size)
        }
        return text
    }

    public static func decodeSegments(_ text: String) throws -> [BlobSegment] {
        if text.hasPrefix("[") {
            return try JSONDecoder().decode([StoredSegment].self, from: Data(text.utf8)).map(\.segment)
        }
        var segments: [BlobSegment] = []
        try forEachEntry(text) { blob, offset, size in
            guard let size = integer(size), let offset = offset.isEmpty ? 0 : integer(offset) else {
                throw StoreError.ioFailure("index: malformed segment list")
            }
            segments.append(BlobSegment(blobID: BlobID(String(decoding: blob, as: UTF8.self)), offset: offset, size: size))
        }
        return segments
    }

    public static func encode(_ parts: [ObjectPart]) -> String {
        parts.map { "\($0.number):\($0.size):\($0.checksum ?? "")" }.joined(separator: ";")
    }

    public static func decodeParts(_ text: String) throws -> [ObjectPart] {
        if text.hasPrefix("[") {
            return try JSONDecoder().decode([JSONPart].self, from: Data(text.utf8)).map {
                ObjectPart(number: $0.n, size: $0.size, checksum: $0.checksum)
            }
        }
        var parts: [ObjectPart] = []
        try forEachEntry(text) { number, size, checksum in
            guard let number = integer(number), let size = integer(size) else {
                throw StoreError.ioFailure("index: malformed part list")
            }
            parts.append(ObjectPart(
                number: Int(number), size: size, checksum: checksum.isEmpty ? nil : String(decoding: checksum, as: UTF8.self)))
        }
        return parts
    }

    /// A part as the first multipart rows stored it.
    private struct JSONPart: Decodable {
        var n: Int
        var size: Int64
        var checksum: String?
    }

    /// Calls `body` with the three fields of each `a:b:c` entry of `a:b:c;d:e:f`, working on UTF-8 bytes (Swift's
    /// Character-wise splitting was most of the cost of a HEAD of a many-part object).
    private static func forEachEntry(
        _ text: String, _ body: (ArraySlice<UInt8>, ArraySlice<UInt8>, ArraySlice<UInt8>) throws -> Void
    ) throws {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return }
        var start = 0
        while start <= bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
            let entry = bytes[start..<end]
            guard let first = entry.firstIndex(of: UInt8(ascii: ":")),
                  let second = entry[(first + 1)...].firstIndex(of: UInt8(ascii: ":"))
            else { throw StoreError.ioFailure("index: malformed list entry") }
            try body(entry[..<first], entry[(first + 1)..<second], entry[(second + 1)...])
            start = end + 1
        }
    }

    /// A non-negative decimal integer, or nil.
    private static func integer(_ digits: ArraySlice<UInt8>) -> Int64? {
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

/// A segment as rows written before ``CompactLists`` store it, in JSON: `{"blob": "<id>", "size": n}`.
struct StoredSegment: Decodable {
    var blob: String
    var offset: Int64?
    var size: Int64

    var segment: BlobSegment { BlobSegment(blobID: BlobID(blob), offset: offset ?? 0, size: size) }
}
