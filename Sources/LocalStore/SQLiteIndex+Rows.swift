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

    static func milliseconds(_ date: Date) -> Int64 { IndexColumns.milliseconds(date) }

    static func date(milliseconds: Int64) -> Date { IndexColumns.date(milliseconds: milliseconds) }

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
            metadata: try IndexColumns.decodeMetadata(row["metadata"]),
            checksum: try checksum.map(decodeChecksum),
            segments: try decodeSegments(row["segments"]),
            parts: try parts.map(CompactLists.decodeParts) ?? [],
            versionID: row["version_id"],
            // Only rows of `versions` have the column.
            isDeleteMarker: (row["delete_marker"] as Int64?).map { $0 != 0 } ?? false
        )
    }

    static func decodeChecksum(_ text: String) throws -> StoredChecksum { try IndexColumns.decodeChecksum(text) }

    static func canonicalJSONStrings(_ text: String, keys: [String]) -> [String]? {
        IndexColumns.canonicalJSONStrings(text, keys: keys)
    }

    static func decodeSegments(_ text: String) throws -> [BlobSegment] {
        try CompactLists.decodeSegments(text)
    }

    static func encodeSegments(_ segments: [BlobSegment]) throws -> String {
        CompactLists.encode(segments)
    }

    static func json(_ value: some Encodable) throws -> String { try IndexColumns.json(value) }
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
