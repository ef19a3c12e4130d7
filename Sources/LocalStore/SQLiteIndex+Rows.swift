import Foundation
import GRDB
import ObjectStore

/// How an ``ObjectRecord`` maps to a row of `objects`, and back.
extension SQLiteIndex {
    /// The `objects` columns a record is read from, each named as itself even when taken from a join.
    static func objectColumns(prefix: String) -> String {
        ["key", "size", "etag", "last_modified", "metadata", "checksum", "segments", "parts", "version_id"]
            .map { "\(prefix)\($0) AS \($0)" }
            .joined(separator: ", ")
    }

    /// The columns a listing needs: a record without its segment and part lists, which a page of large
    /// multipart objects would otherwise decode by the million.
    static let listingColumns = "key, size, etag, last_modified, metadata, checksum, '' AS segments, NULL AS parts, version_id"

    /// A key as stored: its UTF-8 bytes, so comparisons are byte-wise.
    static func keyData(_ key: String) -> Data {
        Data(key.utf8)
    }

    /// Every date that reaches the index is bounded where it is parsed; the clamp keeps one that slipped through
    /// (or a NaN) from trapping the conversion, which would end the whole server.
    static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite else { return 0 }
        return Int64(min(max(value, -millisecondBound), millisecondBound))
    }

    /// Year 10000, in milliseconds from 1970: far past any date S3 accepts, far inside Int64.
    private static let millisecondBound: Double = 253_402_300_800_000

    static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    private static let metadataDocuments = DecodedDocumentCache<ObjectMetadata>()

    /// Decodes a row selected with ``objectColumns(prefix:)``.
    static func objectRecord(_ row: Row, bucket: String) throws -> ObjectRecord {
        let keyBytes: Data = row["key"]
        let checksum: String? = row["checksum"]
        let parts: String? = row["parts"]
        return ObjectRecord(
            bucket: bucket,
            key: String(decoding: keyBytes, as: UTF8.self),
            size: row["size"],
            etag: row["etag"],
            lastModified: date(milliseconds: row["last_modified"]),
            metadata: try metadataDocuments.decode(row["metadata"]),
            checksum: try checksum.map(decodeChecksum),
            segments: try decodeSegments(row["segments"]),
            parts: try parts.map(CompactLists.decodeParts) ?? [],
            versionID: row["version_id"],
            // Only rows of `versions` have the column.
            isDeleteMarker: (row["delete_marker"] as Int64?).map { $0 != 0 } ?? false
        )
    }

    /// A stored checksum. The index holds it as JSONEncoder wrote it (sorted keys, `/` escaped), read here without
    /// a JSONDecoder, which cost more than the rest of a GET's record; any other shape goes to JSONDecoder.
    static func decodeChecksum(_ text: String) throws -> StoredChecksum {
        if let fields = canonicalJSONStrings(text, keys: ["algorithm", "type", "value"]) {
            return StoredChecksum(algorithm: fields[0], value: fields[2], type: fields[1])
        }
        return try JSONDecoder().decode(StoredChecksum.self, from: Data(text.utf8))
    }

    /// The values of `{"k1":"v1","k2":"v2",...}` with exactly `keys` in that order, whose values have no escapes but
    /// `\/`; nil for anything else.
    static func canonicalJSONStrings(_ text: String, keys: [String]) -> [String]? {
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

    static func decodeSegments(_ text: String) throws -> [BlobSegment] {
        try CompactLists.decodeSegments(text)
    }

    static func encodeSegments(_ segments: [BlobSegment]) throws -> String {
        CompactLists.encode(segments)
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// A segment as rows written before ``CompactLists`` store it, in JSON: `{"blob": "<id>", "size": n}`.
struct StoredSegment: Decodable {
    var blob: String
    var offset: Int64?
    var size: Int64

    var segment: BlobSegment { BlobSegment(blobID: BlobID(blob), offset: offset ?? 0, size: size) }
}

/// A record turned into the values of an `objects` row, done before entering the write transaction so JSON
/// encoding does not lengthen the time the write lock is held.
struct EncodedRecord {
    let key: Data
    let versionID: String?
    /// The `objects` columns in order: bucket, key, size, etag, last_modified, metadata, checksum, segments,
    /// parts, version_id.
    let values: [(any DatabaseValueConvertible)?]
    var arguments: StatementArguments { StatementArguments(values) }

    init(_ record: ObjectRecord) throws {
        key = SQLiteIndex.keyData(record.key)
        versionID = record.versionID
        values = [
            record.bucket,
            key,
            record.size,
            record.etag,
            SQLiteIndex.milliseconds(record.lastModified),
            try SQLiteIndex.json(record.metadata),
            try record.checksum.map { try SQLiteIndex.json($0) },
            try SQLiteIndex.encodeSegments(record.segments),
            record.parts.isEmpty ? nil : CompactLists.encode(record.parts),
            record.versionID,
        ]
    }
}
